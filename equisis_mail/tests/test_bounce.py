# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Accepted is not delivered: delivery reports fed to Odoo's mail gateway
after a real send, in the formats of Postfix and Exchange."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import EquisisSendCase, real_delivery

FAILED_FILTER = [("equisis_mail_state", "in", ["failed", "partial"])]

POSTFIX_REPORT = """\
Return-Path: <>
Delivered-To: bounce@company.example
Date: Mon, 16 Nov 2026 10:12:40 +0100 (CET)
From: MAILER-DAEMON@mx.customer.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounce@company.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="6C1B2A0F3.1763284360/mx.customer.example"
Message-Id: <20261116091240.6D6E2A0F4@mx.customer.example>

This is a MIME-encapsulated message.

--6C1B2A0F3.1763284360/mx.customer.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.customer.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{address}>: {diagnostic}

--6C1B2A0F3.1763284360/mx.customer.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example
X-Postfix-Queue-ID: 6C1B2A0F3
X-Postfix-Sender: rfc822; sophie@example.com
Arrival-Date: Mon, 16 Nov 2026 10:12:39 +0100 (CET)

Final-Recipient: rfc822; {address}
Original-Recipient: rfc822;{address}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--6C1B2A0F3.1763284360/mx.customer.example
Content-Description: Undelivered Message
Content-Type: message/rfc822

{original}
--6C1B2A0F3.1763284360/mx.customer.example--
"""

EXCHANGE_REPORT = """\
From: Microsoft Outlook
    <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@customer.example>
To: <bounce@company.example>
Date: Mon, 16 Nov 2026 09:12:41 +0000
Content-Type: multipart/report; report-type=delivery-status;
    boundary="ab34c1f2-9d77-4a5e-8b0c-2f1e6d3c4b5a"
Content-Language: en-US
Message-ID: <7a1c9e30-1b2d-4c3e-9f40-5a6b7c8d9e0f@AM0PR01MB1234.eurprd01.outlook.com>
Subject: Undeliverable: {subject}
Auto-Submitted: auto-replied
MIME-Version: 1.0

--ab34c1f2-9d77-4a5e-8b0c-2f1e6d3c4b5a
Content-Type: multipart/alternative; differences=Content-Type;
    boundary="c0d1e2f3-a4b5-4c6d-8e7f-901a2b3c4d5e"

--c0d1e2f3-a4b5-4c6d-8e7f-901a2b3c4d5e
Content-Type: text/plain; charset="us-ascii"

Your message to {address} couldn't be delivered.
{address} wasn't found at customer.example.
Remote Server returned '{diagnostic}'

--c0d1e2f3-a4b5-4c6d-8e7f-901a2b3c4d5e
Content-Type: text/html; charset="us-ascii"

<html><body><p><b>Your message to {address} couldn't be delivered.</b></p>
<p>{address} wasn't found at customer.example.</p></body></html>

--c0d1e2f3-a4b5-4c6d-8e7f-901a2b3c4d5e--

--ab34c1f2-9d77-4a5e-8b0c-2f1e6d3c4b5a
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;mail.company.example
Arrival-Date: Mon, 16 Nov 2026 09:12:39 +0000

Final-Recipient: rfc822;{address}
Action: failed
Status: {status}
Diagnostic-Code: smtp;{diagnostic}

--ab34c1f2-9d77-4a5e-8b0c-2f1e6d3c4b5a
Content-Type: text/rfc822-headers

{headers}

--ab34c1f2-9d77-4a5e-8b0c-2f1e6d3c4b5a--
"""


@tagged("post_install", "-at_install")
class TestBounce(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo's incoming mail: the company's alias domain with its bounce
        # alias, where delivery reports arrive.
        cls.env["mail.alias.domain"].create(
            {
                "name": "company.example",
                "bounce_alias": "bounce",
                "catchall_alias": "catchall",
                "company_ids": [(4, cls.env.company.id)],
            }
        )
        cls.customer = cls.make_partner("Gone Customer", "gone@customer.example")

    def _send_invoice(self, move=None):
        """Mail an invoice for real; return it and the mail as received."""
        move = move or self.make_invoice(self.customer)
        wizard = self.open_wizard(move)
        wizard.resend_confirmed = True
        self.send(wizard)
        self.assertEqual(move.equisis_mail_state, "sent")
        return move, self.smtp.received[-1]

    def _postfix(self, received, address, status="5.1.1", action="failed", **kw):
        diagnostic = kw.get(
            "diagnostic",
            f"550 5.1.1 <{address}>: Recipient address rejected: User unknown",
        )
        original = received.raw.decode().replace("\r\n", "\n")
        return POSTFIX_REPORT.format(
            address=address,
            action=action,
            status=status,
            diagnostic=diagnostic,
            original=original,
        )

    def _exchange(self, received, address):
        headers = received.header_text().replace("\r\n", "\n")
        return EXCHANGE_REPORT.format(
            address=address,
            status="5.1.10",
            diagnostic="550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
            "not found by SMTP address lookup",
            headers=headers,
            subject=received.message["Subject"],
        )

    def _process(self, report):
        """Hand a report to Odoo's gateway, as the incoming mail server does."""
        return self.env["mail.thread"].message_process(False, report)

    def _retry(self, moves):
        with real_delivery(self.env):
            return moves.with_user(self.sender).action_equisis_retry_mail()

    def _notes(self, move):
        return move.message_ids.filtered(lambda m: m.message_type == "notification")

    def test_postfix_hard_bounce_marks_the_invoice_not_delivered(self):
        move, received = self._send_invoice()
        self.assertFalse(
            self._process(self._postfix(received, "gone@customer.example"))
        )

        self.assertEqual(move.equisis_mail_state, "failed")
        self.assertIn("Not delivered", move.equisis_mail_failure)
        self.assertIn("gone@customer.example", move.equisis_mail_failure)
        self.assertIn("550 5.1.1", move.equisis_mail_failure)
        self.assertIn("User unknown", move.equisis_mail_failure)
        self.assertIn(move, self.env["account.move"].search(FAILED_FILTER))
        # Accepted by the sender's server then: that stays true.
        self.assertTrue(move.equisis_mail_sent_date)
        note = self._notes(move)[:1]
        self.assertIn("was not delivered", note.body)
        self.assertIn("550 5.1.1", note.body)
        inbox = self.env["mail.message"].search(
            [
                ("message_type", "=", "user_notification"),
                ("partner_ids", "in", self.sender.partner_id.ids),
                ("subject", "ilike", move.name),
            ]
        )
        self.assertTrue(inbox, "the sender is told in the inbox")
        self.assertIn("550 5.1.1", inbox.body)

    def test_bounce_that_comes_before_the_acceptance_is_recorded(self):
        """In production the acceptance is recorded after the commit, with
        other mails': a bounce that comes first still marks the invoice
        not delivered, and the recording does not turn it back to sent."""
        mail_class = type(self.env["mail.mail"])
        move = self.make_invoice(self.customer)
        with patch.object(mail_class, "_equisis_record", lambda mails: None):
            self.send(self.open_wizard(move))
        mail = self.mails_of(move)
        self.assertEqual(mail.state, "sent")
        self.assertFalse(mail.equisis_reported)
        self.assertNotEqual(move.equisis_mail_state, "sent")
        self._process(self._postfix(self.smtp.received[-1], "gone@customer.example"))
        self.env["equisis.mail.service"]._record_outcomes()
        self.assertEqual(move.equisis_mail_state, "failed")
        self.assertIn("Not delivered", move.equisis_mail_failure)
        self.assertTrue(move.equisis_mail_sent_date)
        self.assertIn(move, self.env["account.move"].search(FAILED_FILTER))

    def test_exchange_report_hard_bounce(self):
        move, received = self._send_invoice()
        self._process(self._exchange(received, "gone@customer.example"))

        self.assertEqual(move.equisis_mail_state, "failed")
        self.assertIn("RESOLVER.ADR.RecipientNotFound", move.equisis_mail_failure)
        self.assertIn("gone@customer.example", move.equisis_mail_failure)
        self.assertIn(move, self.env["account.move"].search(FAILED_FILTER))

    def test_retry_goes_to_the_corrected_address(self):
        move, received = self._send_invoice()
        self._process(self._postfix(received, "gone@customer.example"))
        self.smtp.reset()

        with self.assertRaisesRegex(UserError, "Correct the contact's e-mail address"):
            self._retry(move)
        self.assertFalse(self.smtp.received, "the same dead address is not retried")

        self.customer.email = "accounts@customer.example"
        self._retry(move)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertIn("accounts@customer.example", self.smtp.received[0].rcpt_tos)
        self.assertNotIn("gone@customer.example", self.smtp.received[0].rcpt_tos)
        self.assertEqual(move.equisis_mail_state, "sent")
        self.assertFalse(move.equisis_mail_failure)
        self.assertEqual(move.equisis_mail_sent_to, "accounts@customer.example")
        self.assertNotIn(move, self.env["account.move"].search(FAILED_FILTER))

        # The same report, arriving again late, is about an address the mail
        # no longer goes to: a note, not a status.
        self._process(self._postfix(received, "gone@customer.example"))
        self.assertEqual(move.equisis_mail_state, "sent")
        self.assertIn("an earlier e-mail", self._notes(move)[:1].body)

    def test_soft_bounce_is_temporary_and_retried_as_is(self):
        move, received = self._send_invoice()
        self._process(
            self._postfix(
                received,
                "gone@customer.example",
                status="4.2.2",
                diagnostic="452 4.2.2 <gone@customer.example>: Mailbox full",
            )
        )
        self.assertEqual(move.equisis_mail_state, "failed")
        self.assertIn("temporary", move.equisis_mail_failure)
        self.assertIn("4.2.2", move.equisis_mail_failure)
        self.assertIn(move, self.env["account.move"].search(FAILED_FILTER))
        self.assertIn("for now", self._notes(move)[:1].body)

        self.smtp.reset()
        self._retry(move)
        self.assertEqual(self.smtp.received[0].rcpt_tos[:1], ["gone@customer.example"])
        self.assertEqual(move.equisis_mail_state, "sent")

    def test_delay_notice_is_no_bounce(self):
        move, received = self._send_invoice()
        self._process(
            self._postfix(
                received,
                "gone@customer.example",
                status="4.4.1",
                action="delayed",
                diagnostic="connect to mx.customer.example: Connection timed out",
            )
        )
        self.assertEqual(move.equisis_mail_state, "sent")
        self.assertIn("delayed", self._notes(move)[:1].body)

    def test_only_the_addons_own_mails_change_the_status(self):
        move, received = self._send_invoice()
        follower = self.make_partner("Follower", "follower@customer.example")
        notification = move.message_post(
            body="Payment reminder",
            partner_ids=follower.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        follower_mail = received.header_text().replace(
            received.message["Message-Id"], notification.message_id
        )
        report = EXCHANGE_REPORT.format(
            address="follower@customer.example",
            status="5.1.10",
            diagnostic="550 5.1.10 RESOLVER.ADR.RecipientNotFound",
            headers=follower_mail.replace("\r\n", "\n"),
            subject="Payment reminder",
        )
        self._process(report)
        self.assertEqual(move.equisis_mail_state, "sent")

        self._process(self._exchange(received, "gone@customer.example"))
        self.assertEqual(move.equisis_mail_state, "failed")

    def test_bounce_of_an_older_mail_leaves_a_later_send(self):
        move, first = self._send_invoice()
        self.customer.email = "accounts@customer.example"
        self._send_invoice(move)
        self._process(self._postfix(first, "gone@customer.example"))
        self.assertEqual(move.equisis_mail_state, "sent")
        self.assertEqual(move.equisis_mail_sent_to, "accounts@customer.example")
        self.assertIn("an earlier e-mail", self._notes(move)[:1].body)

    def test_beside_mail_tracking(self):
        """With OCA's mail_tracking (a pass of its own in ``make test``), each
        records the bounce once: it on its tracking of the mail, this addon
        on the document; Retry still works."""
        if "mail.tracking.email" not in self.env:
            self.skipTest("mail_tracking is not installed")
        move, received = self._send_invoice()
        mail = self.env["mail.mail"].search(
            [("equisis_model", "=", move._name), ("equisis_res_id", "=", move.id)]
        )
        tracking = self.env["mail.tracking.email"].search([("mail_id", "=", mail.id)])
        self.assertEqual(tracking.mapped("state"), ["sent"])

        self._process(self._postfix(received, "gone@customer.example"))
        self.assertEqual(tracking.state, "soft-bounced")
        self.assertEqual(move.equisis_mail_state, "failed")
        self.assertIn("550 5.1.1", move.equisis_mail_failure)
        notes = self._notes(move).filtered(lambda m: "not delivered" in m.body)
        self.assertEqual(len(notes), 1)

        self.customer.email = "accounts@customer.example"
        self.smtp.reset()
        self._retry(move)
        self.assertEqual(
            self.smtp.received[0].rcpt_tos[:1], ["accounts@customer.example"]
        )
        self.assertEqual(move.equisis_mail_state, "sent")
