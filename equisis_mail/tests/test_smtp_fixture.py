# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64

from odoo.tests import tagged

from .common import EquisisMailCase

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@tagged("post_install", "-at_install")
class TestSmtpFixture(EquisisMailCase):
    smtp_credentials = ("fixture-login", "fixture-secret")

    def test_mail_with_pdf_reaches_the_fixture(self):
        """A mail.mail with a PDF goes through a real SMTP session."""
        server = self.env["ir.mail_server"].create(
            {
                "name": "Fixture",
                "smtp_host": self.smtp.host,
                "smtp_port": self.smtp.port,
                "smtp_encryption": "none",
                "smtp_user": "fixture-login",
                "smtp_pass": "fixture-secret",
                "sequence": 0,
            }
        )
        attachment = self.env["ir.attachment"].create(
            {
                "name": "doc.pdf",
                "datas": base64.b64encode(PDF_BYTES),
                "mimetype": "application/pdf",
            }
        )
        mail = self.env["mail.mail"].create(
            {
                "subject": "Fixture check",
                "body_html": "<p>Hello</p>",
                "email_from": "sender@example.com",
                "email_to": "first@example.com, second@example.com",
                "mail_server_id": server.id,
                "attachment_ids": [(6, 0, attachment.ids)],
            }
        )
        self.flush_mail_queue(mail)
        self.assertEqual(mail.state, "sent", mail.failure_reason)
        self.assertEqual(len(self.smtp.received), 1)
        received = self.smtp.received[0]
        self.assertEqual(received.login, "fixture-login")
        self.assertEqual(received.mail_from, "sender@example.com")
        self.assertEqual(
            sorted(received.rcpt_tos), ["first@example.com", "second@example.com"]
        )
        self.assertEqual(received.message["Subject"], "Fixture check")
        self.assertEqual(received.attachments(), [("doc.pdf", PDF_BYTES)])

    def test_wrong_password_is_refused(self):
        server = self.env["ir.mail_server"].create(
            {
                "name": "Fixture bad login",
                "smtp_host": self.smtp.host,
                "smtp_port": self.smtp.port,
                "smtp_encryption": "none",
                "smtp_user": "fixture-login",
                "smtp_pass": "wrong",
            }
        )
        mail = self.env["mail.mail"].create(
            {
                "subject": "Refused",
                "body_html": "<p>x</p>",
                "email_from": "sender@example.com",
                "email_to": "first@example.com",
                "mail_server_id": server.id,
            }
        )
        self.flush_mail_queue(mail)
        self.assertEqual(mail.state, "exception")
        self.assertIn("535", mail.failure_reason)
        self.assertFalse(self.smtp.received)
