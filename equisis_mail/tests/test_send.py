# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import ast
import base64
from unittest.mock import patch

from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools import mute_logger
from odoo.tools.rendering_tools import parse_inline_template

from ..models import equisis_mail_service as service_module
from .common import (
    EquisisSendCase,
    cron_progress_without_commit,
    real_delivery,
    user_smtp_on_loopback,
)


@tagged("post_install", "-at_install")
class TestSend(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fr = cls.make_partner("Client Français", "client@example.fr", lang="fr_BE")
        cls.nl = cls.make_partner("Klant NL", "a@x.example; b@y.example", lang="nl_BE")
        cls.nobody = cls.make_partner("Sans Adresse", False, lang="fr_BE")

    def _received_for(self, address):
        return [mail for mail in self.smtp.received if address in mail.rcpt_tos]

    def test_acceptance_three_invoices(self):
        """The issue's acceptance, from the contract's names alone."""
        self.sender.bcc_confirmation = True
        moves = (
            self.make_invoice(self.fr)
            | self.make_invoice(self.nl)
            | self.make_invoice(self.nobody)
        )
        wizard = self.open_wizard(moves)
        self.assertTrue(wizard.bcc_confirmation)
        self.assertEqual(len(wizard.line_ids), 3)
        lines = {line.move_id: line for line in wizard.line_ids}
        self.assertFalse(lines[moves[0]].problem)
        self.assertFalse(lines[moves[1]].problem)
        self.assertTrue(lines[moves[2]].problem)
        self.assertIn(";", lines[moves[1]].email_to)

        self.send(wizard)

        self.assertEqual(len(self.smtp.received), 2, "two mails, no more")
        self.assertFalse(self.default_smtp.received)
        fr_mail = self._received_for("client@example.fr")[0]
        nl_mail = self._received_for("a@x.example")[0]
        self.assertIn("b@y.example", nl_mail.rcpt_tos)
        for received, move, word in (
            (fr_mail, moves[0], "Facture"),
            (nl_mail, moves[1], "Factuur"),
        ):
            self.assertEqual(received.login, "sender-login")
            message = received.message
            self.assertIn(word, message["Subject"])
            self.assertIn(move.name, message["Subject"])
            body = message.get_body(("html",)).get_content()
            self.assertIn("Sophie Sender, Accounting", body)
            pdfs = [
                content
                for name, content in received.attachments()
                if name.endswith(".pdf")
            ]
            self.assertEqual(len(pdfs), 1)
            self.assertTrue(pdfs[0].startswith(b"%PDF"))
            # BCC confirmation: in the envelope, in no header.
            self.assertIn("sophie@example.com", received.rcpt_tos)
            self.assertNotIn("sophie@example.com", received.recipient_headers())
            self.assertNotIn("\r\nBcc:", received.header_text())
            self.assertNotIn("X-Equisis", received.header_text())
        self.assertTrue(moves[0].is_move_sent)
        self.assertTrue(moves[1].is_move_sent)
        self.assertFalse(moves[2].is_move_sent)
        # The chatter tells what left, with the PDF.
        message = moves[0].message_ids.filtered(
            lambda m: m.subject and "Facture" in m.subject
        )
        self.assertTrue(message)
        self.assertTrue(
            message.attachment_ids.filtered(lambda a: a.mimetype == "application/pdf")
        )
        # The red line stays in the window with its reason.
        self.assertEqual(wizard.line_ids.move_id, moves[2])

    def test_without_bcc_nobody_else_receives(self):
        move = self.make_invoice(self.fr)
        wizard = self.open_wizard(move)
        wizard.bcc_confirmation = False
        self.send(wizard)
        self.assertEqual(self.smtp.received[0].rcpt_tos, ["client@example.fr"])
        # No follower was added nor notified.
        self.assertNotIn(self.fr, move.message_partner_ids)

    def test_red_line_reasons(self):
        draft = self.make_invoice(self.fr, post=False)
        posted = self.make_invoice(self.fr)
        wizard = self.open_wizard(draft | posted)
        lines = {line.move_id: line for line in wizard.line_ids}
        self.assertIn("not posted", lines[draft].problem)
        line = lines[posted]
        self.assertFalse(line.problem)
        line.email_to = "good@example.com; not-an-address"
        self.assertIn("not-an-address", line.problem)
        line.email_to = ""
        self.assertIn("No recipient", line.problem)
        line.email_to = (
            "Jean Dupont <jean@example.fr>, good@example.com; good@example.com"
        )
        self.assertFalse(line.problem)
        self.assertEqual(
            line._sending_values()["email_to"], ["jean@example.fr", "good@example.com"]
        )
        line.subject = "Hello\r\nBcc: evil@example.com"
        self.assertIn("one line", line.problem)

    @mute_logger("odoo.addons.mail.models.mail_render_mixin")
    def test_changed_letter_clears_its_render_error(self):
        """A line's problem always describes its current letter."""
        # Written before any invoice existed, it could not be tried then.
        broken = self.env["equisis.letter"].create(
            {
                "code": "BROKEN",
                "name": "Facture {{ object.name }}",
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "lang_id": self.env.ref("base.lang_fr").id,
                "body_html": '<p>Du <t t-out="object.nonexistent"/>.</p>',
            }
        )
        move = self.make_invoice(self.fr)
        wizard = self.open_wizard(move)
        line = wizard.line_ids
        good = line.letter_id
        line.letter_id = broken
        with self.assertRaisesRegex(UserError, "BROKEN could not be rendered"):
            self.send(wizard)
        self.assertIn("BROKEN could not be rendered", line.problem)
        line.letter_id = good
        self.assertFalse(line.problem)
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(wizard.result_state, "sent")
        self.assertFalse(wizard.line_ids)

    def test_clearing_the_window_letter_gives_each_its_own_back(self):
        fr_move = self.make_invoice(self.fr)
        en_move = self.make_invoice(self.make_partner("Acme", "acme@example.com"))
        wizard = self.open_wizard(fr_move | en_move)
        own = {line.move_id: line.letter_id for line in wizard.line_ids}
        self.assertEqual(own[fr_move].code, "INV-FR")
        wizard.letter_id = own[en_move]
        wizard._onchange_letter_id()
        self.assertEqual(wizard.line_ids.letter_id, own[en_move])
        wizard.letter_id = False
        wizard._onchange_letter_id()
        self.assertEqual(
            {line.move_id: line.letter_id for line in wizard.line_ids}, own
        )
        self.assertFalse(wizard.line_ids.filtered("problem"))

    def test_typed_address_is_saved_on_the_contact_only_when_asked(self):
        self.sender.group_ids = [
            Command.link(self.env.ref("base.group_partner_manager").id)
        ]
        keep = self.make_partner("Keep Ltd", False)
        leave = self.make_partner("Leave Ltd", False)
        moves = self.make_invoice(keep) | self.make_invoice(leave)
        wizard = self.open_wizard(moves)
        lines = {line.partner_id: line for line in wizard.line_ids}
        self.assertFalse(lines[keep].save_address, "off by default")
        lines[keep].write({"email_to": "billing@keep.example", "save_address": True})
        lines[leave].email_to = "once@leave.example"
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), 2)
        self.assertEqual(keep.email, "billing@keep.example")
        self.assertFalse(leave.email)

    def test_a_document_sent_already_says_when(self):
        move = self.make_invoice(self.fr)
        self.send(self.open_wizard(move))
        again = self.open_wizard(move | self.make_invoice(self.nl))
        lines = {line.move_id: line for line in again.line_ids}
        self.assertIn("Sent on", lines[move].sent_note)
        self.assertFalse((again.line_ids - lines[move]).sent_note)
        # Left out by removing its line: only the other one goes.
        lines[move].unlink()
        self.smtp.reset()
        self.send(again)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertNotIn("client@example.fr", self.smtp.received[0].rcpt_tos)

    def test_edited_body_is_sent_as_edited(self):
        move = self.make_invoice(self.fr)
        line = self.open_wizard(move).line_ids
        self.assertIn(move.name, line.body_html)
        line.body_html = "<p>Cher client, voici la facture corrigée.</p>"
        self.send(line.wizard_id)
        body = self.smtp.received[0].message.get_body(("html",)).get_content()
        self.assertIn("voici la facture corrigée", body)
        self.assertNotIn("Veuillez trouver", body)

    def test_no_letter_for_vendor_bills(self):
        vendor = self.make_partner("Vendor", "vendor@example.com")
        bill = self.make_invoice(vendor, move_type="in_invoice")
        wizard = self.open_wizard(bill)
        self.assertIn("No accompanying letter", wizard.line_ids.problem)
        self.env["equisis.letter"].create(
            {
                "code": "BILL-EN",
                "name": "About bill {{ object.ref or object.name }}",
                "letter_type": "accompaniment",
                "target": "in_invoice",
                "lang_id": self.env.ref("base.lang_en").id,
                "body_html": "<p>Please find our remarks about your bill.</p>",
            }
        )
        wizard = self.open_wizard(bill)
        self.assertFalse(wizard.line_ids.problem, wizard.line_ids.problem)
        self.send(wizard)
        self.assertEqual(self.smtp.received[0].rcpt_tos, ["vendor@example.com"])
        self.assertTrue(bill.is_move_sent)
        # The host makes no legal documents for vendor bills: the print form
        # goes with the mail only.
        files = dict(self.smtp.received[0].attachments())
        self.assertEqual(len([name for name in files if name.endswith(".pdf")]), 1)
        self.assertFalse(bill.invoice_pdf_report_id)

    def test_sender_without_address(self):
        move = self.make_invoice(self.fr)
        user = self.env["res.users"].create(
            {
                "name": "No Mail",
                "login": "nomail",
                "group_ids": [
                    Command.link(self.env.ref("account.group_account_invoice").id)
                ],
            }
        )
        wizard = self.open_wizard(move, user=user)
        self.assertIn("no e-mail address", wizard.line_ids.problem)
        with self.assertRaises(UserError):
            wizard.action_send()

    def _annex(self, move, name="terms.txt", content=b"General terms"):
        return self.env["ir.attachment"].create(
            {
                "name": name,
                "raw": content,
                "res_model": "account.move",
                "res_id": move.id,
                "mimetype": "text/plain",
            }
        )

    def test_annexes_automatic_and_manual(self):
        move = self.make_invoice(self.fr)
        annex = self._annex(move)
        # Company setting off: proposed for ticking, not attached.
        self.env.company.send_annexes_by_mail = False
        line = self.open_wizard(move).line_ids
        self.assertFalse(line.attachment_ids)
        self.assertEqual(line.available_annex_ids, annex)
        line.attachment_ids = [Command.link(annex.id)]
        self.send(line.wizard_id)
        names = [name for name, _content in self.smtp.received[0].attachments()]
        self.assertIn("terms.txt", names)
        # Company setting on: attached by default.
        self.smtp.reset()
        self.env.company.send_annexes_by_mail = True
        move2 = self.make_invoice(self.fr)
        annex2 = self._annex(move2, "plan.txt", b"plan")
        line = self.open_wizard(move2).line_ids
        self.assertEqual(line.attachment_ids, annex2)
        self.send(line.wizard_id)
        attachments = dict(self.smtp.received[0].attachments())
        self.assertEqual(attachments["plan.txt"], b"plan")

    def test_files_of_internal_notes_are_no_annexes(self):
        """A file posted in an internal note on the invoice is the team's:
        neither attached by default nor offered as an annex."""
        self.env.company.send_annexes_by_mail = True
        move = self.make_invoice(self.fr)
        annex = self._annex(move, "plan.txt", b"plan")
        move.message_post(
            body="Margin to keep for ourselves",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            attachments=[("margins.txt", b"internal")],
        )
        line = self.open_wizard(move).line_ids
        self.assertEqual(line.attachment_ids, annex)
        self.assertEqual(line.available_annex_ids, annex)
        self.send(line.wizard_id)
        names = [name for name, _content in self.smtp.received[0].attachments()]
        self.assertIn("plan.txt", names)
        self.assertNotIn("margins.txt", names)
        # The log of the mail sent (a note of the addon's) carries the annex:
        # it is still the invoice's, for the next mail.
        again = self.open_wizard(move).line_ids
        self.assertIn(annex, again.attachment_ids)
        self.assertNotIn("margins.txt", again.attachment_ids.mapped("name"))

    def test_existing_pdf_is_reused(self):
        move = self.make_invoice(self.fr)
        wizard = self.open_wizard(move)
        self.send(wizard)
        pdf = move.invoice_pdf_report_id
        self.assertTrue(pdf)
        self.smtp.reset()
        again = self.open_wizard(move)
        again.resend_confirmed = True  # sent already: a deliberate choice
        self.send(again)
        self.assertEqual(move.invoice_pdf_report_id, pdf)
        sent = dict(self.smtp.received[0].attachments())
        self.assertEqual(sent[pdf.name], pdf.raw)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_failure_then_retry_without_duplicates(self):
        moves = self.make_invoice(self.fr) | self.make_invoice(self.nl)
        self.smtp.refuse_recipient("client@example.fr", "550 5.1.1 No such user")
        self.send(self.open_wizard(moves))
        self.assertFalse(moves[0].is_move_sent)
        self.assertTrue(moves[1].is_move_sent)
        self.assertEqual(moves[0].equisis_mail_state, "failed")
        self.assertIn("550", moves[0].equisis_mail_failure)
        self.assertEqual(len(self.smtp.received), 1)
        # The invoice list's "E-mail failed" filter finds it, and only it.
        failed_filter = self.env.ref("equisis_mail.account_move_view_search")
        domain = ast.literal_eval(
            etree.fromstring(failed_filter.arch)
            .xpath("//filter[@name='equisis_mail_failed']")[0]
            .get("domain")
        )
        Move = self.env["account.move"].with_user(self.sender)
        scope = [("id", "in", moves.ids)]
        self.assertEqual(Move.search(scope + domain), moves[0])
        self.assertEqual(
            Move.search(scope + [("equisis_mail_state", "!=", "failed")]), moves[1]
        )
        # The cause is fixed; retrying sends only what did not go.
        self.smtp.reset()
        with real_delivery(self.env):
            moves.with_user(self.sender).action_equisis_retry_mail()
        self.assertEqual(len(self.smtp.received), 1)
        self.assertIn("client@example.fr", self.smtp.received[0].rcpt_tos)
        self.assertTrue(moves[0].is_move_sent)
        self.assertFalse(Move.search(scope + domain))
        with self.assertRaises(UserError):
            moves.with_user(self.sender).action_equisis_retry_mail()

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_retry_after_a_failed_second_send(self):
        """An invoice mailed once, then mailed again and refused: its status
        is Failed and Retry sends the failed mail, not "nothing to send"."""
        move = self.make_invoice(self.fr)
        self.send(self.open_wizard(move))
        self.assertTrue(move.is_move_sent)
        self.smtp.refuse_recipient("client@example.fr", "550 5.2.2 Mailbox full")
        again = self.open_wizard(move)
        again.resend_confirmed = True  # sent already: a deliberate choice
        self.send(again)
        self.assertEqual(move.equisis_mail_state, "failed")
        self.smtp.reset()
        with real_delivery(self.env):
            move.with_user(self.sender).action_equisis_retry_mail()
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(move.equisis_mail_state, "sent")

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_mail_retried_from_odoos_screens_is_recorded_at_once(self):
        """A failed mail sent again from Odoo's own screens (Emails, Retry)
        and delivered by Odoo's mail queue marks its invoice sent in the same
        transaction, not at a later run of the addon's job."""
        move = self.make_invoice(self.fr)
        self.smtp.refuse_recipient("client@example.fr", "550 5.1.1 No such user")
        self.send(self.open_wizard(move))
        self.assertEqual(move.equisis_mail_state, "failed")
        mail = self.env["mail.mail"].search(
            [("equisis_model", "=", "account.move"), ("equisis_res_id", "=", move.id)]
        )
        self.smtp.reset()
        mail.action_retry()
        with real_delivery(self.env):
            self.env["mail.mail"].process_email_queue(email_ids=mail.ids)
        self.assertEqual(mail.state, "sent")
        self.assertEqual(len(self.smtp.received), 1)
        self.assertTrue(move.is_move_sent)
        self.assertEqual(move.equisis_mail_state, "sent")
        self.assertTrue(mail.equisis_reported)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_wrong_password_marks_nothing_sent(self):
        self.sender.smtp_pass = "wrong"
        move = self.make_invoice(self.fr)
        self.send(self.open_wizard(move))
        self.assertFalse(self.smtp.received)
        self.assertFalse(self.default_smtp.received)
        self.assertFalse(move.is_move_sent)
        mail = self.env["mail.mail"].search(
            [("equisis_model", "=", "account.move"), ("equisis_res_id", "=", move.id)]
        )
        self.assertEqual(mail.state, "exception")
        self.assertIn("535", mail.failure_reason)
        self.assertEqual(move.equisis_mail_state, "failed")

    def test_same_invoice_twice_is_refused_while_queued(self):
        move = self.make_invoice(self.fr)
        wizard = self.open_wizard(move)
        second = self.open_wizard(move)
        # The first send leaves its mail in the queue (delivery off here).
        wizard.action_send()
        with self.assertRaisesRegex(UserError, "already waiting"):
            second.action_send()

    def test_large_batch_goes_to_background(self):
        self.env["ir.config_parameter"].set_param(
            "equisis_mail.background_threshold", 2
        )
        moves = (
            self.make_invoice(self.fr)
            | self.make_invoice(self.nl)
            | self.make_invoice(self.fr)
        )
        wizard = self.open_wizard(moves)
        self.send(wizard)
        self.assertFalse(self.smtp.received)
        self.assertEqual(self.queued(moves), moves)
        self.assertEqual(set(moves.mapped("equisis_mail_state")), {"queued"})
        with (
            real_delivery(self.env),
            cron_progress_without_commit(self.env),
            patch.object(service_module, "CHUNK", 2),
        ):
            self.env["equisis.mail.service"].with_context(
                force_report_rendering=True
            )._cron_send()
        self.assertEqual(len(self.smtp.received), 3)
        # Two chunks, each delivered as soon as it is made: one SMTP session each.
        self.assertEqual(self.smtp.state.connections, 2)
        self.assertTrue(all(moves.mapped("is_move_sent")))
        self.assertFalse(self.queued(moves))
        self.assertTrue(all(r.login == "sender-login" for r in self.smtp.received))

    def test_opening_window_renders_no_pdf(self):
        moves = self.make_invoice(self.fr) | self.make_invoice(self.nl)
        before = self.env["ir.attachment"].search_count(
            [("mimetype", "=", "application/pdf")]
        )
        self.open_wizard(moves)
        after = self.env["ir.attachment"].search_count(
            [("mimetype", "=", "application/pdf")]
        )
        self.assertEqual(before, after)

    def test_attachments_too_large(self):
        move = self.make_invoice(self.fr)
        self.env["ir.config_parameter"].set_param("base.default_max_email_size", "1")
        big = self._annex(move, "big.bin", b"x" * (2 * 1024 * 1024))
        line = self.open_wizard(move).line_ids
        line.attachment_ids = [Command.link(big.id)]
        self.assertIn("exceed", line.problem)

    def test_uploaded_annex(self):
        move = self.make_invoice(self.fr)
        line = self.open_wizard(move).line_ids
        upload = (
            self.env["ir.attachment"]
            .with_user(self.sender)
            .create(
                {
                    "name": "extra.txt",
                    "datas": base64.b64encode(b"extra"),
                    "mimetype": "text/plain",
                }
            )
        )
        line.attachment_ids = [Command.link(upload.id)]
        self.send(line.wizard_id)
        self.assertEqual(
            dict(self.smtp.received[0].attachments())["extra.txt"], b"extra"
        )

    def test_each_annex_shows_once_in_the_detail(self):
        move = self.make_invoice(self.fr)
        own = self.env["ir.attachment"].create(
            {
                "name": "plan.txt",
                "raw": b"plan",
                "res_model": "account.move",
                "res_id": move.id,
            }
        )
        line = self.open_wizard(move).line_ids
        uploads = self.env["ir.attachment"].with_user(self.sender)
        first, second = (
            uploads.create({"name": f"{name}.txt", "raw": name.encode()})
            for name in ("first", "second")
        )
        line.attachment_ids = [Command.link(own.id), Command.link(first.id)]
        # The document's file is a tick; only the added file is in "Your Files".
        self.assertEqual(line.available_annex_ids, own)
        self.assertEqual(line.upload_ids, first)
        line.upload_ids = [Command.set(second.ids)]
        self.assertEqual(line.attachment_ids, own | second)

    def test_annex_uploaded_in_the_window_goes_with_a_background_batch(self):
        """The window is gone when the batch runs; its uploads still go."""
        self.env["ir.config_parameter"].set_param(
            "equisis_mail.background_threshold", 1
        )
        moves = self.make_invoice(self.fr) | self.make_invoice(self.nl)
        wizard = self.open_wizard(moves)
        line = wizard.line_ids[0]
        upload = (
            self.env["ir.attachment"]
            .with_user(self.sender)
            .create(
                {
                    "name": "plan.txt",
                    "raw": b"plan",
                    "res_model": line._name,
                    "res_id": line.id,
                }
            )
        )
        line.attachment_ids = [Command.link(upload.id)]
        self.send(wizard)
        self.assertEqual(self.queued(moves), moves)
        with real_delivery(self.env), cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        self.assertEqual(len(self.smtp.received), 2)
        files = [dict(received.attachments()) for received in self.smtp.received]
        self.assertEqual(sum(1 for f in files if f.get("plan.txt") == b"plan"), 1)


@tagged("post_install", "-at_install")
class TestSendTour(HttpCase):
    def test_send_tour(self):
        admin = self.env.ref("base.user_admin")
        admin.email = "admin@example.com"
        Partner = self.env["res.partner"]
        product = self.env["product.product"].create({"name": "Tour service"})
        for name, email in (
            ("Tour Client A", "a@example.com"),
            ("Tour Client B", "b@example.com"),
            ("Tour Client C", False),
        ):
            move = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": Partner.create({"name": name, "email": email}).id,
                    "invoice_date": "2026-11-02",
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": product.id, "price_unit": 100, "tax_ids": []}
                        )
                    ],
                }
            )
            move.action_post()
        with user_smtp_on_loopback(self, admin) as smtp:
            self.start_tour(
                "/odoo/action-account.action_move_out_invoice_type",
                "equisis_mail_send_tour",
                login="admin",
            )
        self.assertEqual(len(smtp.received), 3)
        move = self.env["account.move"].search(
            [("partner_id.name", "=", "Tour Client C")]
        )
        self.assertIn("fixed@example.com", move.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestAccountantsMonday(EquisisSendCase):
    """Issue 24: each line stands alone, a second send is a choice, plain
    messages, the smaller points."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.with_ref = cls.make_partner("Ref Ltd", "ref@example.com")
        cls.with_ref.ref = "abc-12"
        cls.without_ref = cls.make_partner("Noref Ltd", "noref@example.com")

    def _letter(self, name, body="<p>Hello</p>", lang="base.lang_en"):
        """A letter of the template editor (the test's superuser)."""
        return self.env["equisis.letter"].create(
            {
                "code": "REF",
                "name": name,
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "lang_id": self.env.ref(lang).id,
                "body_html": body,
            }
        )

    def _lines(self, wizard):
        return {line.move_id: line for line in wizard.line_ids}

    @mute_logger("odoo.addons.mail.models.mail_render_mixin")
    def test_a_subject_failing_for_one_document_reds_that_line_only(self):
        # A French letter, in an English session: the reason is English.
        # Written before the invoices, it is not tried on one of them.
        letter = self._letter(
            "Facture {{ object.name }} ({{ object.partner_id.ref.upper() }})",
            lang="base.lang_fr",
        )
        moves = self.make_invoice(self.with_ref) | self.make_invoice(self.without_ref)
        wizard = self.open_wizard(moves)
        wizard.line_ids.letter_id = letter
        lines = self._lines(wizard)
        good, bad = lines[moves[0]], lines[moves[1]]
        self.assertFalse(good.problem)
        self.assertEqual(good.subject, f"Facture {moves[0].name} (ABC-12)")
        self.assertIn("{{ object.partner_id.ref.upper() }}", bad.problem)
        self.assertIn(moves[1].name, bad.problem)
        self.assertIn("Partner › Reference", bad.problem)
        self.assertIn("empty", bad.problem)
        for raw in ("inline_template", "AttributeError", "Échec", "rendu"):
            self.assertNotIn(raw, bad.problem)
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(wizard.line_ids, bad)

    @mute_logger("odoo.addons.mail.models.mail_render_mixin")
    def test_a_body_failing_for_one_document_reds_that_line_only(self):
        letter = self._letter(
            "Invoice {{ object.name }}",
            body='<p>Your code: <t t-out="object.partner_id.ref.upper()"/></p>',
        )
        moves = self.make_invoice(self.with_ref) | self.make_invoice(self.without_ref)
        wizard = self.open_wizard(moves)
        wizard.line_ids.letter_id = letter
        self.assertFalse(wizard.line_ids.filtered("problem"), "subjects render")
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertIn("ABC-12", self.smtp.received[0].message.get_body().get_content())
        bad = wizard.line_ids
        self.assertEqual(bad.move_id, moves[1])
        self.assertIn("object.partner_id.ref.upper()", bad.problem)
        self.assertIn("Partner › Reference", bad.problem)
        self.assertNotIn("QWeb", bad.problem)
        self.assertNotIn("Error", bad.problem)

    @mute_logger("odoo.addons.mail.models.mail_render_mixin")
    def test_an_unknown_field_is_named(self):
        letter = self._letter("Invoice {{ object.no_such_field }}")
        wizard = self.open_wizard(self.make_invoice(self.with_ref))
        wizard.line_ids.letter_id = letter
        self.assertIn("no_such_field", wizard.line_ids.problem)
        self.assertIn("not a field of", wizard.line_ids.problem)

    def test_documents_sent_already_wait_for_a_confirmation(self):
        sent = self.make_invoice(self.with_ref)
        self.send(self.open_wizard(sent))
        self.smtp.reset()
        fresh = self.make_invoice(self.without_ref)
        wizard = self.open_wizard(sent | fresh)
        self.assertEqual(wizard.already_sent_count, 1)
        self.assertIn(sent.name, wizard.already_sent_summary)
        self.assertIn("ref@example.com", wizard.already_sent_summary)
        lines = self._lines(wizard)
        self.assertIn("to ref@example.com", lines[sent].sent_note)
        self.assertTrue(lines[sent].already_sent)
        self.assertFalse(lines[fresh].already_sent)
        self.assertEqual(wizard.ready_count, 1)
        # Send without the tick: only the fresh one goes; the other stays.
        self.send(wizard)
        self.assertEqual(
            [received.rcpt_tos for received in self.smtp.received],
            [["noref@example.com", "sophie@example.com"]]
            if self.sender.bcc_confirmation
            else [["noref@example.com"]],
        )
        self.assertEqual(wizard.line_ids.move_id, sent)
        self.assertIn("1 document sent already was left out", wizard.result_message)
        # Alone, it is refused with the way to send it.
        with self.assertRaisesRegex(UserError, "Send them again"):
            self.send(wizard)
        # Ticked: it goes, once.
        self.smtp.reset()
        wizard.resend_confirmed = True
        self.assertEqual(wizard.ready_count, 1)
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertFalse(wizard.line_ids)
        self.assertFalse(wizard.resend_confirmed, "a tick is for one send")

    def test_red_lines_first_then_documents_sent_already(self):
        sent = self.make_invoice(self.with_ref)
        self.send(self.open_wizard(sent))
        fresh = self.make_invoice(self.with_ref)
        red = self.make_invoice(self.make_partner("Nobody", False))
        wizard = self.open_wizard(fresh | sent | red)
        wizard.invalidate_recordset(["line_ids"])
        self.assertEqual(wizard.line_ids.move_id.ids, [red.id, sent.id, fresh.id])

    def test_a_line_pointed_at_another_document_follows_it(self):
        """The window reads its lines' documents once per transaction; a
        line whose document is changed (over RPC) shows the new one."""
        first = self.make_invoice(self.with_ref)
        other = self.make_invoice(self.without_ref, post=False)
        wizard = self.open_wizard(first)
        line = wizard.line_ids
        self.assertEqual(line._documents_by_line()[line], first)
        line.write({"res_id": other.id, "move_id": other.id})
        self.assertEqual(line._documents_by_line()[line], other)
        self.assertEqual(line.document_name, other.display_name)
        other.unlink()
        self.assertFalse(line._documents_by_line()[line])
        line.invalidate_recordset(["problem"])
        self.assertEqual(line.problem, "The document no longer exists.")

    def test_send_window_columns_wrap(self):
        """Every column reads whole at 1366 px: long cells wrap."""
        arch = etree.fromstring(
            self.env.ref("equisis_mail.equisis_mail_send_view_form").arch
        )
        for name in ("email_to", "letter_id", "subject", "problem", "sent_note"):
            cell = arch.xpath(f"//list/field[@name='{name}']")[0]
            self.assertIn("text-wrap", cell.get("class", ""), name)

    def test_plain_counts_in_the_result(self):
        wizard = self.open_wizard(self.make_invoice(self.with_ref))
        self.send(wizard)
        self.assertEqual(wizard.result_message, "1 mail sent.")
        moves = self.make_invoice(self.with_ref) | self.make_invoice(self.with_ref)
        wizard = self.open_wizard(moves)
        self.send(wizard)
        self.assertEqual(wizard.result_message, "2 mails sent.")
        self.assertNotIn("(s)", wizard.result_message)

    def test_sent_through_names_host_and_port(self):
        wizard = self.open_wizard(self.make_invoice(self.with_ref))
        self.assertEqual(
            wizard.sender_server,
            f"{self.smtp.host}:{self.smtp.port} (your own server)",
        )
        self.sender.smtp_host = False
        wizard = self.open_wizard(self.make_invoice(self.with_ref))
        self.assertEqual(
            wizard.sender_server,
            f"127.0.0.1:{self.default_smtp.port} (the company's server)",
        )

    @mute_logger("odoo.addons.base.models.ir_mail_server", "odoo.addons.mail")
    def test_refused_connection_says_which_server_and_where_to_fix_it(self):
        self.sender.smtp_port = 1
        wizard = self.open_wizard(self.make_invoice(self.with_ref))
        self.send(wizard)
        self.assertEqual(wizard.result_message, "No mail was sent. 1 mail failed.")
        self.assertIn(
            f"The mail server {self.smtp.host}:1 refused the connection",
            wizard.result_failures,
        )
        self.assertIn(
            "Settings &gt; Users &gt; Sophie Sender &gt; E-mail sending",
            wizard.result_failures,
        )
        self.assertNotIn("Errno", wizard.result_failures)
        self.assertNotIn("111", wizard.result_failures)

    def test_files_count_an_upload_at_once_and_the_einvoice(self):
        move = self.make_invoice(self.with_ref)
        wizard = self.open_wizard(move)
        self.assertEqual(wizard.line_ids.attachment_count, 1, "the PDF")
        upload = self.env["ir.attachment"].create(
            {"name": "plan.txt", "raw": b"plan", "mimetype": "text/plain"}
        )
        form = Form(wizard)
        with form.line_ids.edit(0) as line_form:
            line_form.upload_ids.add(upload)
            self.assertEqual(line_form.attachment_count, 2, "before saving")
        # A customer with an e-invoice format: its XML goes with the mail.
        self.with_ref.invoice_edi_format = "ubl_bis3"
        wizard = self.open_wizard(self.make_invoice(self.with_ref))
        self.assertEqual(wizard.line_ids.attachment_count, 2, "PDF and XML")

    def test_a_letter_from_scratch_ends_with_the_signature(self):
        letter = self._letter("Invoice {{ object.name }}", body="<p>Hello</p>")
        move = self.make_invoice(self.with_ref)
        wizard = self.open_wizard(move)
        wizard.line_ids.letter_id = letter
        self.assertIn("Sophie Sender, Accounting", wizard.line_ids.body_html)
        # A ready-made letter places the signature itself, once.
        wizard.line_ids.letter_id = wizard.line_ids.default_letter_id
        self.assertEqual(
            wizard.line_ids.body_html.count("Sophie Sender, Accounting"), 1
        )

    def test_ready_made_labels_hold_plain_placeholders(self):
        letters = self.env["equisis.letter"].search(
            [("letter_type", "=", "accompaniment")]
        )
        self.assertTrue(letters)
        for letter in letters:
            for _text, expression, _default in parse_inline_template(letter.name):
                if expression:
                    self.assertRegex(
                        expression.strip(), r"^object(\.\w+)+$", letter.code
                    )

    def test_smaller_screens_points(self):
        """Change the limit opens Settings at its block; Mail To's copy
        button comes first and hides the BCC tick; no "? ?" label."""
        action = self.env.ref("equisis_mail.action_open_personal_limit_setting")
        self.assertTrue(action.url.endswith("#equisis_personal_limit"))
        settings = self.env["res.config.settings"].get_views([(False, "form")])
        self.assertIn('id="equisis_personal_limit"', settings["views"]["form"]["arch"])
        arch = etree.fromstring(
            self.env.ref("equisis_mail.equisis_mail_to_view_form").arch
        )
        copy = arch.xpath("//field[@widget='CopyClipboardButton']")[0]
        listed = arch.xpath("//group/field[@name='address_list']")[0]
        self.assertLess(list(arch.iter()).index(copy), list(arch.iter()).index(listed))
        tick = arch.xpath("//field[@name='use_bcc']")[0].getparent()
        self.assertEqual(tick.get("invisible"), "url_too_long")
        for label in arch.xpath("//label"):
            self.assertFalse(label.get("string", "").endswith("?"))


@tagged("post_install", "-at_install")
class TestMondayTour(HttpCase):
    def test_monday_tour(self):
        """Issue 24, points 2 and 3, in the browser."""
        admin = self.env.ref("base.user_admin")
        admin.email = "admin@example.com"
        product = self.env["product.product"].create({"name": "Monday service"})
        moves = {}
        # The customer without reference first: the letter is tried on the
        # latest invoice when it is saved, and renders there.
        for name, ref in (
            ("Monday Noref", False),
            ("Monday Sent", "sent-1"),
            ("Monday Fresh", "fresh-2"),
        ):
            partner = self.env["res.partner"].create(
                {"name": name, "email": f"{ref or 'noref'}@example.com", "ref": ref}
            )
            moves[name] = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": "2026-11-02",
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": product.id, "price_unit": 100, "tax_ids": []}
                        )
                    ],
                }
            )
            moves[name].action_post()
        moves["Monday Sent"].is_move_sent = True
        self.env["equisis.letter"].create(
            {
                "code": "MON-EN",
                "sequence": 1,
                "name": "Invoice {{ object.name }} for "
                "{{ object.partner_id.ref.upper() }}",
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "lang_id": self.env.ref("base.lang_en").id,
                "body_html": "<p>Hello</p>",
            }
        )
        with user_smtp_on_loopback(self, admin) as smtp:
            self.start_tour(
                "/odoo/action-account.action_move_out_invoice_type",
                "equisis_mail_monday_tour",
                login="admin",
            )
        self.assertEqual(
            sorted(tuple(received.rcpt_tos[:1]) for received in smtp.received),
            [("fresh-2@example.com",), ("sent-1@example.com",)],
        )
