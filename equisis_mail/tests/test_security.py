# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""An ordinary invoicing user tries to send as a colleague, and fails."""

import logging
import tempfile

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import (
    EquisisSendCase,
    SmtpFixture,
    cron_progress_without_commit,
    real_delivery,
    self_signed_tls_context,
)


class SecurityCase(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.make_partner("Client", "client@example.com")
        # The attacker: invoicing rights, no server of their own.
        cls.mallory = cls.env["res.users"].create(
            {
                "name": "Mallory",
                "login": "mallory",
                "email": "mallory@example.com",
                "group_ids": [
                    Command.link(cls.env.ref("account.group_account_invoice").id),
                    Command.link(cls.env.ref("base.group_user").id),
                    Command.link(cls.env.ref("base.group_allow_export").id),
                ],
            }
        )
        # The colleague is cls.sender: her own server, login and password.
        cls.secret = (
            cls.env["ir.attachment"]
            .with_user(cls.sender)
            .create({"name": "salaries.pdf", "raw": b"%PDF-1.4 secret"})
        )

    def assertNothingLeft(self):
        self.assertFalse(self.smtp.received, "nothing through the colleague's server")
        self.assertFalse(self.default_smtp.received, "nothing through the company's")

    def mails_from(self, user):
        return self.env["mail.mail"].search(
            [("mail_message_id.author_id", "=", user.partner_id.id)]
        )


@tagged("post_install", "-at_install")
class TestNoMailAsSomeoneElse(SecurityCase):
    def test_no_queue_field_on_documents(self):
        """The first version's forged queue was a field of the invoice users
        could write: what the addons add to documents is either computed or
        the sending service's status, which no user writes; writing it
        queues and sends nothing."""
        added = {
            (model, name): field
            for model in self.env["equisis.mail.document"]._equisis_document_models()
            for name, field in self.env[model]._fields.items()
            if (field._module or "").startswith("equisis_mail")
        }
        self.assertIn(("account.move", "equisis_mail_state"), added)
        move = self.make_invoice(self.partner)
        for (model, name), field in added.items():
            if not (field.store or field.inverse):
                continue
            document = move if model == "account.move" else self.env[model]
            with (
                self.subTest(field=f"{model}.{name}"),
                self.assertRaises(AccessError),
            ):
                document.with_user(self.mallory).write({name: False})
        with self.assertRaises(AccessError):
            move.with_user(self.mallory).write(
                {"equisis_mail_state": "queued", "equisis_mail_failure": "forged"}
            )
        move.invalidate_recordset()
        self.assertFalse(move.equisis_mail_state)
        self.assertFalse(move.equisis_mail_failure)
        self.assertFalse(self.queued(move))
        self.assertFalse(self.mails_from(self.mallory))

    def test_queue_is_out_of_reach_of_users(self):
        Queue = self.env["equisis.mail.queue"]
        entry = (
            Queue.with_user(self.sender)
            .sudo()
            .create({"res_model": "account.move", "res_id": 1, "values": {}})
        )
        self.assertEqual(entry.create_uid, self.sender)
        for user in (self.mallory, self.sender):
            queue = Queue.with_user(user)
            with self.assertRaises(AccessError):
                queue.create({"res_model": "account.move", "res_id": 2})
            with self.assertRaises(AccessError):
                queue.search([])
            with self.assertRaises(AccessError):
                queue.browse(entry.id).read(["values"])
            with self.assertRaises(AccessError):
                queue.browse(entry.id).write({"values": {"email_to": ["x@y.example"]}})
            with self.assertRaises(AccessError):
                queue.browse(entry.id).unlink()

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_background_run_sends_each_mail_as_who_queued_it(self):
        self.env["ir.config_parameter"].set_param(
            "equisis_mail.background_threshold", 1
        )
        ours = self.make_invoice(self.partner) | self.make_invoice(self.partner)
        theirs = self.make_invoice(self.partner) | self.make_invoice(self.partner)
        self.send(self.open_wizard(ours, user=self.mallory))
        self.send(self.open_wizard(theirs, user=self.sender))
        self.assertEqual(self.queued(ours | theirs), ours | theirs)
        with real_delivery(self.env), cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        # Mallory's mails: from Mallory, through the company's server.
        self.assertEqual(len(self.default_smtp.received), 2)
        for received in self.default_smtp.received:
            self.assertIn("mallory@example.com", received.message["From"])
        # The colleague's: from her, through her server and login.
        self.assertEqual(len(self.smtp.received), 2)
        for received in self.smtp.received:
            self.assertIn("sophie@example.com", received.message["From"])
            self.assertEqual(received.login, "sender-login")
        self.assertEqual(
            self.mails_from(self.mallory).mail_message_id.create_uid, self.mallory
        )

    def test_window_refuses_an_annex_the_user_cannot_read(self):
        move = self.make_invoice(self.partner)
        wizard = self.open_wizard(move, user=self.mallory)
        # Over RPC, a line's annexes are plain ids the user can write.
        with self.assertRaises(AccessError):
            wizard.line_ids.write({"attachment_ids": [Command.set(self.secret.ids)]})
        # The service checks them itself, whoever calls it.
        values = wizard.line_ids._sending_values()
        values["attachment_ids"] = self.secret.ids
        with self.assertRaises(AccessError), real_delivery(self.env):
            self.env["equisis.mail.service"].with_user(self.mallory)._send(
                {move.with_user(self.mallory): values}
            )
        self.assertNothingLeft()
        self.assertFalse(self.mails_from(self.mallory))
        self.assertFalse(move.is_move_sent)

    def test_window_built_by_rpc_still_sends_as_its_user(self):
        """Every value of the window is the caller's to write; none of them
        makes a mail leave as the colleague."""
        move = self.make_invoice(self.partner)
        wizard = (
            self.env["equisis.mail.send"]
            .with_user(self.mallory)
            .create({"move_ids": [Command.set(move.ids)]})
        )
        wizard.line_ids.write({"email_from": "sophie@example.com"})
        wizard.write({"user_id": self.sender.id})
        self.send(wizard)
        self.assertFalse(self.smtp.received)
        self.assertEqual(len(self.default_smtp.received), 1)
        received = self.default_smtp.received[0]
        self.assertIn("mallory@example.com", received.message["From"])
        self.assertNotIn("sophie", received.raw.decode(errors="replace"))

    def test_service_refuses_a_report_that_is_no_print_form(self):
        move = self.make_invoice(self.partner)
        foreign = self.env.ref("base.action_report_resuser", raise_if_not_found=False)
        foreign = foreign or self.env["ir.actions.report"].search(
            [("model", "!=", "account.move")], limit=1
        )
        with self.assertRaises(AccessError):
            self.env["equisis.mail.service"].with_user(self.mallory)._send(
                {
                    move.with_user(self.mallory): {
                        "email_to": ["client@example.com"],
                        "subject": "x",
                        "body": "<p>x</p>",
                        "attachment_ids": [],
                        "report_id": foreign.id,
                        "bcc": False,
                    }
                }
            )
        self.assertFalse(self.mails_from(self.mallory))

    def _queue_as_mallory(self, annexes_by_move):
        """Queue entries made by Mallory herself, past the window's checks."""
        report = self.env.ref("account.account_invoices").id
        self.env["equisis.mail.queue"].with_user(self.mallory).sudo().create(
            [
                {
                    "res_model": "account.move",
                    "res_id": move.id,
                    "values": {
                        "email_to": ["outside@example.net"],
                        "subject": "Invoice",
                        "body": "<p>Hello</p>",
                        "attachment_ids": annexes,
                        "report_id": report,
                        "bcc": False,
                    },
                }
                for move, annexes in annexes_by_move.items()
            ]
        )

    def test_background_run_checks_files_as_their_sender(self):
        """Queued values are checked again, as the sender, when prepared."""
        move = self.make_invoice(self.partner)
        self._queue_as_mallory({move: self.secret.ids})
        with real_delivery(self.env), cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        self.assertNothingLeft()
        self.assertFalse(self.mails_from(self.mallory))
        self.assertFalse(self.queued(move))
        self.assertFalse(move.is_move_sent)
        self.assertIn("not sent", move.message_ids[:1].body, "the document says why")

    def test_background_run_fails_only_the_document_its_sender_may_not_send(self):
        """A chunk is checked as a whole; when that fails, each document
        alone: the one with a file its sender may not read fails, the
        other goes."""
        bad, good = self.make_invoice(self.partner), self.make_invoice(self.partner)
        self._queue_as_mallory({bad: self.secret.ids, good: []})
        with real_delivery(self.env), cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        self.assertEqual(len(self.default_smtp.received), 1)
        self.assertEqual(len(self.mails_from(self.mallory)), 1)
        self.assertTrue(good.is_move_sent)
        self.assertFalse(bad.is_move_sent)
        self.assertIn("not sent", bad.message_ids[:1].body, "the document says why")

    def test_background_run_drops_nothing_silently_for_an_archived_sender(self):
        self.env["ir.config_parameter"].set_param(
            "equisis_mail.background_threshold", 1
        )
        moves = self.make_invoice(self.partner) | self.make_invoice(self.partner)
        self.send(self.open_wizard(moves, user=self.mallory))
        self.mallory.active = False
        with real_delivery(self.env), cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        self.assertNothingLeft()
        self.assertFalse(self.queued(moves))
        for move in moves:
            self.assertFalse(move.is_move_sent)
            self.assertIn("no longer has access", move.message_ids[:1].body)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_retry_of_a_colleagues_mail_is_refused(self):
        self.sender.smtp_pass = "wrong"
        move = self.make_invoice(self.partner)
        self.send(self.open_wizard(move, user=self.sender))
        self.assertEqual(move.equisis_mail_state, "failed")
        self.sender.smtp_pass = "sender-secret"
        with (
            self.assertRaisesRegex(UserError, "Only the sender"),
            real_delivery(self.env),
        ):
            move.with_user(self.mallory).action_equisis_retry_mail()
        self.assertNothingLeft()
        # Her own retry goes.
        with real_delivery(self.env):
            move.with_user(self.sender).action_equisis_retry_mail()
        self.assertEqual(len(self.smtp.received), 1)

    def test_a_colleagues_window_is_out_of_reach(self):
        """Her window: no reading it, no line slipped into it."""
        move = self.make_invoice(self.partner)
        theirs = self.open_wizard(move, user=self.sender)
        upload = (
            self.env["ir.attachment"]
            .with_user(self.sender)
            .create(
                {
                    "name": "draft.txt",
                    "raw": b"draft",
                    "res_model": theirs.line_ids._name,
                    "res_id": theirs.line_ids.id,
                }
            )
        )
        Send = self.env["equisis.mail.send"].with_user(self.mallory)
        Line = self.env["equisis.mail.send.line"].with_user(self.mallory)
        self.assertNotIn(theirs, Send.search([]))
        with self.assertRaises(AccessError):
            Send.browse(theirs.id).read(["line_ids"])
        with self.assertRaises(AccessError):
            Line.browse(theirs.line_ids.id).read(["email_to"])
        with self.assertRaises(AccessError):
            Line.browse(theirs.line_ids.id).write({"email_to": "x@evil.example"})
        with self.assertRaises(AccessError):
            Line.create(
                {
                    "wizard_id": theirs.id,
                    "move_id": move.id,
                    "email_to": "x@evil.example",
                }
            )
        with self.assertRaises(AccessError):
            upload.with_user(self.mallory).read(["raw"])
        with self.assertRaises(AccessError):
            Send.browse(theirs.id).action_send()
        mail_to = (
            self.env["equisis.mail.to"]
            .with_user(self.sender)
            .create({"partner_ids": [Command.set(self.partner.ids)]})
        )
        with self.assertRaises(AccessError):
            mail_to.with_user(self.mallory).read(["mailto_url"])
        self.assertNothingLeft()

    def test_a_second_line_for_one_document_is_red(self):
        move = self.make_invoice(self.partner)
        wizard = self.open_wizard(move, user=self.mallory)
        extra = (
            self.env["equisis.mail.send.line"]
            .with_user(self.mallory)
            .create(
                {
                    "wizard_id": wizard.id,
                    "move_id": move.id,
                    "email_to": "x@evil.example",
                    "letter_id": wizard.line_ids.letter_id.id,
                    "subject": "Invoice",
                }
            )
        )
        self.assertFalse(wizard.line_ids[0].problem)
        self.assertIn("another line", extra.problem)
        self.send(wizard)
        self.assertEqual(len(self.default_smtp.received), 1)
        self.assertEqual(self.default_smtp.received[0].rcpt_tos, ["client@example.com"])

    def test_caller_context_cannot_drop_recipients(self):
        """The host's ``send_smtp_skip_to`` is no way to mail only oneself
        and have the document marked sent."""
        move = self.make_invoice(self.partner)
        wizard = self.open_wizard(move, user=self.mallory)
        wizard.bcc_confirmation = True
        self.send(wizard.with_context(send_smtp_skip_to=["client@example.com"]))
        self.assertEqual(len(self.default_smtp.received), 1)
        self.assertIn("client@example.com", self.default_smtp.received[0].rcpt_tos)

    def test_caller_context_cannot_add_a_file_or_a_recipient(self):
        """No ``default_*`` key of the caller's context fills in what the
        service makes as superuser: not a file the user may not read, not a
        copy to someone else."""
        self.assertFalse(self.secret.with_user(self.mallory).has_access("read"))
        move = self.make_invoice(self.partner)
        wizard = self.open_wizard(move, user=self.mallory)
        self.send(
            wizard.with_context(
                default_unrestricted_attachment_ids=self.secret.ids,
                default_attachment_ids=self.secret.ids,
                default_email_cc="spy@example.net",
                default_recipient_ids=[self.sender.partner_id.id],
            )
        )
        self.assertEqual(len(self.default_smtp.received), 1)
        received = self.default_smtp.received[0]
        self.assertNotIn("salaries.pdf", dict(received.attachments()))
        self.assertEqual(received.rcpt_tos, ["client@example.com"])
        mail = self.mails_from(self.mallory)
        self.assertNotIn(self.secret, mail.attachment_ids)

    def test_no_mail_from_a_colleagues_address(self):
        """Users may change their own address, but not into a colleague's."""
        self.mallory.with_user(self.mallory).write(
            {"name": "Sophie Sender", "email": "sophie@example.com"}
        )
        move = self.make_invoice(self.partner)
        wizard = self.open_wizard(move, user=self.mallory)
        with self.assertRaisesRegex(UserError, "also the address of"):
            self.send(wizard)
        self.assertNothingLeft()
        self.assertFalse(move.is_move_sent)

    def test_nobody_elses_file_is_taken_into_a_mail(self):
        public = (
            self.env["ir.attachment"]
            .with_user(self.sender)
            .create(
                {"name": "brochure.pdf", "raw": b"%PDF-1.4 brochure", "public": True}
            )
        )
        move = self.make_invoice(self.partner)
        wizard = self.open_wizard(move, user=self.mallory)
        wizard.line_ids.attachment_ids = [Command.link(public.id)]
        self.send(wizard)
        self.assertIn("brochure.pdf", dict(self.default_smtp.received[0].attachments()))
        self.assertFalse(public.res_model, "the file stays where its owner left it")
        self.assertTrue(public.exists())

    def test_connection_test_of_a_colleague_is_refused(self):
        with self.assertRaises(AccessError):
            self.sender.with_user(self.mallory).action_equisis_test_smtp()

    def test_own_server_follows_own_address_never_a_colleagues(self):
        """A new address of one's own keeps the server an administrator set;
        a colleague's address still sends nothing, through any server."""
        own_smtp = SmtpFixture().start()
        self.addCleanup(own_smtp.stop)
        self.mallory.write(
            {
                "smtp_host": own_smtp.host,
                "smtp_port": own_smtp.port,
                "smtp_encryption": "none",
            }
        )
        me = self.mallory.with_user(self.mallory)
        me.write({"email": "mallory.new@example.com"})
        move = self.make_invoice(self.partner)
        self.send(self.open_wizard(move, user=self.mallory))
        self.assertEqual(len(own_smtp.received), 1)
        self.assertEqual(own_smtp.received[0].mail_from, "mallory.new@example.com")
        self.assertNothingLeft()

        own_smtp.reset()
        me.write({"email": "sophie@example.com"})
        other = self.make_invoice(self.partner)
        wizard = self.open_wizard(other, user=self.mallory)
        with self.assertRaisesRegex(UserError, "also the address of"):
            self.send(wizard)
        self.assertFalse(own_smtp.received)
        self.assertNothingLeft()
        self.assertEqual(
            self.sender.outgoing_mail_server_id.owner_user_id,
            self.sender,
            "her server stays hers",
        )


@tagged("post_install", "-at_install")
class TestProfilePrivacy(SecurityCase):
    def test_summary_is_seen_by_its_user_and_administrators_only(self):
        colleague = self.sender.with_user(self.mallory)
        self.assertFalse(colleague.equisis_smtp_summary)
        self.assertEqual(
            colleague.read(["equisis_smtp_summary"])[0]["equisis_smtp_summary"], False
        )
        rows = (
            self.env["res.users"]
            .with_user(self.mallory)
            .search_read([("id", "=", self.sender.id)], ["equisis_smtp_summary"])
        )
        self.assertFalse(rows[0]["equisis_smtp_summary"])
        exported = colleague.export_data(["equisis_smtp_summary"])["datas"]
        self.assertFalse(any(value for row in exported for value in row))
        # Her own, and the administrator's view.
        own = self.sender.with_user(self.sender).equisis_smtp_summary
        self.assertIn(str(self.smtp.port), own)
        admin = self.sender.with_user(self.env.ref("base.user_admin"))
        self.assertIn("sender-login", admin.equisis_smtp_summary)

    def test_portal_customer_reads_no_sending_detail(self):
        """The mail server's answers are for the company's staff, not for the
        customer who reads the invoice in the portal."""
        customer = self.env["res.users"].create(
            {
                "name": "Portal Client",
                "login": "portal_client",
                "email": "portal.client@example.com",
                "group_ids": [Command.set(self.env.ref("base.group_portal").ids)],
            }
        )
        move = self.make_invoice(customer.partner_id)
        move._equisis_set_mail_state(
            "failed", "535 5.7.8 relay.internal.example: bad password"
        )
        self.assertEqual(move.equisis_mail_state, "failed")
        portal_move = move.with_user(customer)
        self.assertEqual(portal_move.read(["name"])[0]["name"], move.name)
        for fname in ("equisis_mail_failure", "equisis_mail_state"):
            with self.subTest(fname=fname):
                self.assertNotIn(fname, portal_move.fields_get())
                with self.assertRaises(AccessError):
                    portal_move.read([fname])
        with self.assertRaises(AccessError):
            self.env["account.move"].with_user(customer).search(
                [("equisis_mail_state", "=", "failed")]
            )
        # The staff still read it.
        self.assertIn("535", move.with_user(self.mallory).equisis_mail_failure)

    def test_smtp_fields_are_for_administrators(self):
        fields = self.env["res.users"].with_user(self.mallory).fields_get()
        for fname in (
            "smtp_host",
            "smtp_port",
            "smtp_user",
            "smtp_pass",
            "smtp_encryption",
            "smtp_check_certificate",
        ):
            self.assertNotIn(fname, fields)
            with self.assertRaises(AccessError):
                self.sender.with_user(self.mallory).read([fname])
        with self.assertRaises(AccessError):
            self.mallory.with_user(self.mallory).write({"smtp_host": "evil.example"})


@tagged("post_install", "-at_install")
class TestTls(SecurityCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        directory = tempfile.mkdtemp(prefix="equisis-tls-")
        cls.tls_smtp = SmtpFixture(
            credentials=("tls-login", "tls-secret"),
            tls_context=self_signed_tls_context(directory),
        ).start()
        cls.addClassCleanup(cls.tls_smtp.stop)
        # The fixture's server logs each refused handshake as an error, from
        # its own thread and after the client gave up: expected here.
        smtp_log = logging.getLogger("mail.log")
        cls.addClassCleanup(smtp_log.setLevel, smtp_log.level)
        smtp_log.setLevel(logging.CRITICAL)

    def setUp(self):
        super().setUp()
        self.tls_smtp.reset()

    def use_tls_server(self, **extra):
        self.sender.write(
            {
                "smtp_host": "127.0.0.1",
                "smtp_port": self.tls_smtp.port,
                "smtp_encryption": "starttls",
                "smtp_user": "tls-login",
                "smtp_pass": "tls-secret",
                **extra,
            }
        )
        return self.sender.outgoing_mail_server_id

    def test_starttls_checks_the_certificate_by_default(self):
        server = self.use_tls_server()
        self.assertEqual(server.smtp_encryption, "starttls_strict")
        self.assertTrue(self.sender.smtp_check_certificate)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_self_signed_certificate_is_refused_in_plain_words(self):
        self.use_tls_server()
        move = self.make_invoice(self.partner)
        self.send(self.open_wizard(move))
        self.assertFalse(self.tls_smtp.received)
        self.assertFalse(move.is_move_sent)
        self.assertEqual(move.equisis_mail_state, "failed")
        self.assertIn("certificate could not be trusted", move.equisis_mail_failure)
        with (
            self.assertRaisesRegex(UserError, "certificate could not be trusted"),
            real_delivery(self.env),
        ):
            self.sender.action_equisis_test_smtp()

    def test_without_the_check_the_mail_arrives_encrypted(self):
        server = self.use_tls_server(smtp_check_certificate=False)
        self.assertEqual(server.smtp_encryption, "starttls")
        move = self.make_invoice(self.partner)
        self.send(self.open_wizard(move))
        self.assertEqual(len(self.tls_smtp.received), 1)
        self.assertEqual(self.tls_smtp.received[0].login, "tls-login")
        self.assertTrue(move.is_move_sent)

    def test_editing_the_profile_keeps_the_servers_mode(self):
        server = self.use_tls_server(smtp_check_certificate=False)
        # An administrator makes the server strict on the server itself.
        server.smtp_encryption = "ssl_strict"
        self.sender.write({"smtp_port": 465, "smtp_user": "other-login"})
        self.assertEqual(server.smtp_encryption, "ssl_strict")
        self.sender.smtp_pass = "new-secret"
        self.assertEqual(server.smtp_encryption, "ssl_strict")
        # Only encryption or the check itself change the mode.
        self.sender.smtp_check_certificate = False
        self.assertEqual(server.smtp_encryption, "ssl")
        self.sender.smtp_encryption = "starttls"
        self.assertEqual(server.smtp_encryption, "starttls")
        self.sender.smtp_check_certificate = True
        self.assertEqual(server.smtp_encryption, "starttls_strict")


@tagged("post_install", "-at_install")
class TestLetterPreview(SecurityCase):
    @mute_logger("odoo.addons.mail.models.mail_render_mixin")
    def test_preview_is_sanitized(self):
        """A rendering error quoting markup shows it as text, never as HTML."""
        letter = self.env["equisis.letter"].create(
            {
                "code": "XSS",
                "name": "Invoice {{ object.name }}",
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "body_html": (
                    "<p t-out=\"object['&lt;img src=x onerror=alert(1)&gt;']\"/>"
                ),
            }
        )
        letter.preview_move_id = self.make_invoice(self.partner)
        self.assertIn("cannot be rendered", letter.preview_body)
        self.assertNotIn("<img", letter.preview_body)
