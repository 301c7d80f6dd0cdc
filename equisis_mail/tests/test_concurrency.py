# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Two users sending the same invoice: one mail, and a clear refusal."""

import resource
import signal
import threading
import time
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.modules.registry import DummyRLock, Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL, config, mute_logger

from ..models import equisis_mail_service as service_module
from .common import EquisisSendCase, SmtpFixture, real_delivery


class ProcessDied(BaseException):
    """Stands for a process killed between the SMTP server's answer and the
    commit of the mail's state: nothing catches it, the transaction is
    rolled back."""


REFUSALS = (
    "being sent by someone else right now",
    "was sent from elsewhere after this window was opened",
)


@tagged("post_install", "-at_install")
class TestSentMeanwhile(EquisisSendCase):
    """Two windows open on the same documents, validated one after the other."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.make_partner("Client", "client@example.com")
        cls.colleague = cls.env["res.users"].create(
            {
                "name": "Colin Colleague",
                "login": "colin",
                "email": "colin@example.com",
                "group_ids": [(6, 0, cls.sender.group_ids.ids)],
            }
        )
        cls.colleague.write(
            {
                "smtp_host": cls.smtp.host,
                "smtp_port": cls.smtp.port,
                "smtp_encryption": "none",
                "smtp_user": "sender-login",
                "smtp_pass": "sender-secret",
            }
        )

    def test_document_sent_meanwhile_turns_red(self):
        move = self.make_invoice(self.partner)
        other = self.make_invoice(self.partner)
        first = self.open_wizard(move)
        second = self.open_wizard(move | other, user=self.colleague)
        self.send(first)
        line = second.line_ids.filtered(lambda line: line.move_id == move)
        self.assertIn("was sent from elsewhere", line.problem)
        self.send(second)
        self.assertEqual(len(self.smtp.received), 2)
        mails = self.env["mail.mail"].search(
            [("equisis_model", "=", "account.move"), ("equisis_res_id", "=", move.id)]
        )
        self.assertEqual(len(mails), 1)
        self.assertTrue(other.is_move_sent)
        # The red line stays in the window, with its reason.
        self.assertEqual(second.line_ids, line)

    def test_mail_retried_meanwhile_turns_red(self):
        """A mail that left last week, then failed (a bounce), is retried
        while a colleague's window is open: the same mail leaves again, so
        the window must learn it from when it left, not from the mail."""
        move = self.make_invoice(self.partner)
        self.send(self.open_wizard(move))
        mail = self.env["mail.mail"].search(
            [("equisis_model", "=", "account.move"), ("equisis_res_id", "=", move.id)]
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET equisis_mail_sent_date = "
                "equisis_mail_sent_date - interval '7 days' WHERE id = %s",
                move.id,
            )
        )
        self.env.cr.execute(
            SQL(
                "UPDATE mail_message SET date = date - interval '7 days' WHERE id = %s",
                mail.mail_message_id.id,
            )
        )
        self.env.invalidate_all()
        mail.state = "exception"
        move._equisis_set_mail_state("failed", "Not delivered")
        window = self.open_wizard(move, user=self.colleague)
        window.resend_confirmed = True
        with real_delivery(self.env):
            move.with_user(self.sender).action_equisis_retry_mail()
        self.assertEqual(len(self.smtp.received), 2)
        # The colleague validates later, in a request of its own.
        self.env.invalidate_all()
        self.assertIn("was sent from elsewhere", window.line_ids.problem)

    def test_every_line_sent_meanwhile_is_refused_with_the_reason(self):
        move = self.make_invoice(self.partner)
        first = self.open_wizard(move)
        second = self.open_wizard(move, user=self.colleague)
        self.send(first)
        with self.assertRaisesRegex(UserError, "was sent from elsewhere"):
            self.send(second)
        self.assertEqual(len(self.smtp.received), 1)

    def test_sending_a_sent_document_again_is_a_choice(self):
        move = self.make_invoice(self.partner)
        self.send(self.open_wizard(move))
        again = self.open_wizard(move, user=self.colleague)
        self.assertFalse(again.line_ids.problem)
        # A deliberate choice: the window asks for it.
        again.resend_confirmed = True
        self.send(again)
        self.assertEqual(len(self.smtp.received), 2)

    def test_queued_document_turns_red(self):
        move = self.make_invoice(self.partner)
        # Delivery is off outside real_delivery(): the mail stays outgoing.
        self.open_wizard(move).action_send()
        line = self.open_wizard(move, user=self.colleague).line_ids
        self.assertIn("already waiting to be sent", line.problem)

    def test_retry_skips_a_document_sent_again_meanwhile(self):
        self.sender.smtp_pass = "wrong"
        move = self.make_invoice(self.partner)
        self.send(self.open_wizard(move))
        self.assertEqual(move.equisis_mail_state, "failed")
        # A colleague sends it again; the mail waits in the queue.
        self.open_wizard(move, user=self.colleague).action_send()
        with self.assertRaisesRegex(UserError, "no failed e-mail"):
            move.with_user(self.sender).action_equisis_retry_mail()
        mails = self.env["mail.mail"].search(
            [("equisis_model", "=", "account.move"), ("equisis_res_id", "=", move.id)]
        )
        # Sending it anew cancelled the failed mail: no Retry sends it later.
        self.assertEqual(sorted(mails.mapped("state")), ["cancel", "outgoing"])


@tagged("post_install", "-at_install")
class TestSendingAtTheSameInstant(BaseCase):
    """Two users validate their windows on one invoice at the same instant.

    Each runs in its own committed transaction, as two HTTP requests do,
    with the host's retry on serialization failures. The data is committed
    too, and removed after.
    """

    # What the class commits lands in these tables; all of it is removed.
    TRACED = (
        "equisis.mail.send.line",
        "equisis.mail.send",
        "equisis.mail.queue",
        "equisis.mail.handoff",
        "equisis.mail.attempt",
        "ir.cron.progress",
        "ir.cron.trigger",
        "mail.mail",
        "mail.message",
        "ir.attachment",
        "account.move",
        "ir.mail_server",
        "res.users",
        "res.partner",
    )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.smtp = SmtpFixture().start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.move_ids = []
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cls.max_ids = {
                model: env[model]
                .with_context(active_test=False)
                .search([], order="id desc", limit=1)
                .id
                or 0
                for model in cls.TRACED
            }
            params = env["ir.config_parameter"]
            cls.report_url = params.get_param("report.url")
            # Nothing answers there: PDFs come out unstyled, fast.
            params.set_param("report.url", "http://127.0.0.1:9")
            groups = env.ref("account.group_account_invoice") | env.ref(
                "base.group_user"
            )
            cls.user_ids = []
            for name in ("Ann", "Ben"):
                user = env["res.users"].create(
                    {
                        "name": f"{name} Concurrent",
                        "login": f"{name.lower()}-concurrent",
                        "email": f"{name.lower()}@concurrent.example.com",
                        "group_ids": [(6, 0, groups.ids)],
                    }
                )
                user.write(
                    {
                        "smtp_host": cls.smtp.host,
                        "smtp_port": cls.smtp.port,
                        "smtp_encryption": "none",
                    }
                )
                cls.user_ids.append(user.id)
            cls.partner_id = (
                env["res.partner"]
                .create(
                    {
                        "name": "Client Concurrent",
                        "email": "client@concurrent.example.com",
                    }
                )
                .id
            )
        cls.addClassCleanup(cls._remove_committed_data)

    @classmethod
    def _created(cls, env, model):
        return (
            env[model]
            .with_context(active_test=False)
            .search([("id", ">", cls.max_ids[model])])
        )

    @classmethod
    def _remove_committed_data(cls):
        """Remove every row the class committed, then check none is left."""
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            moves = env["account.move"].browse(cls.move_ids).exists()
            moves.button_draft()
            moves.with_context(force_delete=True).unlink()
            for model in cls.TRACED:
                cls._created(env, model).unlink()
            env["ir.config_parameter"].set_param("report.url", cls.report_url)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            left = {
                model: cls._created(env, model).ids
                for model in cls.TRACED
                if cls._created(env, model)
            }
        if left:
            raise AssertionError(f"committed test data left behind: {left}")

    def setUp(self):
        super().setUp()
        self.smtp.reset()
        # Each test starts with no mail counted on the personal servers.
        self._forget_personal_limits()

    def _make_invoice(self, legal_pdf=False):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            move = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id,
                    "invoice_date": "2026-11-02",
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Consulting", "price_unit": 100, "tax_ids": []}
                        )
                    ],
                }
            )
            move.action_post()
            self.move_ids.append(move.id)
            if legal_pdf:
                env["ir.attachment"].create(
                    {
                        "name": "legal.pdf",
                        "raw": b"%PDF-1.4 legal",
                        "mimetype": "application/pdf",
                        "res_model": "account.move",
                        "res_id": move.id,
                        "res_field": "invoice_pdf_report_file",
                    }
                )
            return move.id

    def _open_window(self, user_id, move_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, user_id, {"lang": "en_US"})
            action = env.ref("equisis_mail.account_move_action_send_email")
            result = action.with_context(
                active_model="account.move", active_ids=[move_id]
            ).run()
            return result["res_id"]

    def _mails(self, move_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            mails = env["mail.mail"].search(
                [
                    ("equisis_model", "=", "account.move"),
                    ("equisis_res_id", "=", move_id),
                ]
            )
            return mails.mapped("state"), env["account.move"].browse(
                move_id
            ).is_move_sent

    def _validate(self, user_id, wizard_id, barrier, outcomes):
        try:
            with self.registry.cursor() as cr:
                env = api.Environment(
                    cr, user_id, {"lang": "en_US", "force_report_rendering": True}
                )
                wizard = env["equisis.mail.send"].browse(wizard_id)
                barrier.wait()
                # A serialization failure, retried, is logged as a bad query.
                with mute_logger("odoo.sql_db"):
                    retrying(wizard.action_send, env)
            outcomes[user_id] = "sent"
        except UserError as error:
            outcomes[user_id] = str(error)

    def test_one_mail_and_one_clear_refusal(self):
        move_id = self._make_invoice()
        wizard_ids = {
            user_id: self._open_window(user_id, move_id) for user_id in self.user_ids
        }
        barrier = threading.Barrier(len(wizard_ids))
        outcomes = {}
        threads = [
            threading.Thread(
                target=self._validate, args=(user_id, wizard_id, barrier, outcomes)
            )
            for user_id, wizard_id in wizard_ids.items()
        ]
        with (
            self.registry.cursor() as cr,
            # The test runner holds the registry lock; threads need it too,
            # as in the host's own test mode.
            patch.object(Registry, "_lock", DummyRLock()),
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertEqual(len(outcomes), 2, outcomes)
        results = sorted(outcomes.values(), key=lambda outcome: outcome != "sent")
        self.assertEqual(results[0], "sent", outcomes)
        self.assertTrue(any(refusal in results[1] for refusal in REFUSALS), results[1])
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(
            self.smtp.received[0].rcpt_tos, ["client@concurrent.example.com"]
        )
        self.assertEqual(self._mails(move_id), (["sent"], True))

    def test_request_older_than_the_other_send_is_retried_and_refused(self):
        """The second request began before the first committed: it must not
        trust its old snapshot, where the invoice is neither sent nor queued.

        The legal PDF exists, so the first send writes nothing on the invoice
        itself; delivery is off, so its mail stays queued, as it does in
        production until the after-commit delivery.
        """
        move_id = self._make_invoice(legal_pdf=True)
        ann, ben = self.user_ids
        ann_wizard, ben_wizard = (
            self._open_window(ann, move_id),
            self._open_window(ben, move_id),
        )
        with self.registry.cursor() as ben_cr:
            ben_env = api.Environment(ben_cr, ben, {"lang": "en_US"})
            wizard = ben_env["equisis.mail.send"].browse(ben_wizard)
            self.assertFalse(wizard.line_ids.problem)
            with self.registry.cursor() as ann_cr:
                ann_env = api.Environment(ann_cr, ann, {"lang": "en_US"})
                ann_env["equisis.mail.send"].browse(ann_wizard).action_send()
            with (
                self.assertRaisesRegex(UserError, "already waiting to be sent"),
                mute_logger("odoo.sql_db"),
            ):
                retrying(wizard.action_send, ben_env)
        self.assertEqual(self._mails(move_id), (["outgoing"], False))

    def _queue(self, user_id, move_ids):
        """Send these invoices from a window, through the background queue."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param("equisis_mail.background_threshold", 0)
        try:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, user_id, {"lang": "en_US"})
                action = env.ref("equisis_mail.account_move_action_send_email")
                wizard_id = action.with_context(
                    active_model="account.move", active_ids=move_ids
                ).run()["res_id"]
                env["equisis.mail.send"].browse(wizard_id).action_send()
        finally:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["ir.config_parameter"].set_param(
                    "equisis_mail.background_threshold", 20
                )

    def _run_background(self):
        with (
            self.registry.cursor() as cr,
            patch.object(Registry, "_lock", DummyRLock()),
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            api.Environment(cr, SUPERUSER_ID, {})["equisis.mail.service"]._cron_send()

    def test_window_delivery_and_host_queue_hand_a_mail_to_smtp_once(self):
        """The window's delivery and the host's mail queue take the same
        outgoing mail at the same instant, in two processes: the mail
        reaches the SMTP server once.

        The host writes a mail's state before its SMTP step, but Odoo 19
        writes lazily: the other process still reads it outgoing.
        """
        move_id = self._make_invoice(legal_pdf=True)
        mail_id = self._outgoing_mail(self.user_ids[0], move_id)
        self.assertTrue(mail_id)
        self.smtp.state.data_delay = 1.5
        errors = self._at_the_same_instant(
            lambda env: env["mail.mail"].browse(mail_id)._equisis_deliver(),
            lambda env: env["mail.mail"].process_email_queue(email_ids=[mail_id]),
        )
        self.assertFalse(errors)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(self._mails(move_id), (["sent"], True))

    def test_mail_accepted_by_a_process_that_died_is_not_sent_again(self):
        """The SMTP server accepts a mail, then its process dies before the
        mail's state is committed: the mail is still outgoing. Odoo's mail
        queue takes it next and does not hand it to SMTP again; the invoice
        says the mail may have left. A deliberate Retry sends it."""
        move_id = self._make_invoice(legal_pdf=True)
        mail_id = self._outgoing_mail(self.user_ids[0], move_id)

        def dies(mails, *args, **kwargs):
            raise ProcessDied

        with (
            self.assertRaises(ProcessDied),
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
            patch.object(self.registry["mail.mail"], "_postprocess_sent_message", dies),
        ):
            api.Environment(cr, SUPERUSER_ID, {})["mail.mail"].browse(
                mail_id
            )._equisis_deliver()
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(self._mails(move_id), (["outgoing"], False))
        with (
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            api.Environment(cr, SUPERUSER_ID, {})["mail.mail"].process_email_queue(
                email_ids=[mail_id]
            )
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(self._mails(move_id), (["exception"], False))
        with self.registry.cursor() as cr:
            move = api.Environment(cr, SUPERUSER_ID, {})["account.move"].browse(move_id)
            self.assertEqual(move.equisis_mail_state, "failed")
            self.assertIn("may have left", move.equisis_mail_failure)
        with (
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            ann = api.Environment(cr, self.user_ids[0], {"lang": "en_US"})
            ann["account.move"].browse(move_id).action_equisis_retry_mail()
        self.assertEqual(len(self.smtp.received), 2)
        self.assertEqual(self._mails(move_id), (["sent"], True))
        # The hand-offs whose outcome is committed go with the next run.
        self._run_background()
        with self.registry.cursor() as cr:
            Handoff = api.Environment(cr, SUPERUSER_ID, {})["equisis.mail.handoff"]
            self.assertFalse(Handoff.search_count([("mail_id", "=", mail_id)]))

    def _at_the_same_instant(self, *functions):
        """Run each function in a process of its own (a thread with its
        cursor, as two Odoo workers), released together, with real SMTP.

        :return: the exceptions they raised
        """
        barrier = threading.Barrier(len(functions))
        errors = []

        def run(function):
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait()
                    function(env)
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)

        threads = [threading.Thread(target=run, args=(f,)) for f in functions]
        with (
            self.registry.cursor() as cr,
            patch.object(Registry, "_lock", DummyRLock()),
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
            mute_logger("odoo.sql_db"),
        ):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        return errors

    def _outgoing_mail(self, user_id, move_id):
        """The mail of a window validated while delivery is off: outgoing,
        as between the window's commit and its after-commit delivery."""
        wizard_id = self._open_window(user_id, move_id)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, user_id, {"lang": "en_US"})
            env["equisis.mail.send"].browse(wizard_id).action_send()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return (
                env["mail.mail"]
                .search(
                    [
                        ("equisis_model", "=", "account.move"),
                        ("equisis_res_id", "=", move_id),
                    ]
                )
                .id
            )

    def test_refusals_kept_for_every_mail_of_a_session_that_commits(self):
        """Odoo's queue and the addon deliver committing after each mail,
        which clears what the cursor kept: the recipients the server
        refused for the second mail of the session are still noted."""
        ann = self.user_ids[0]
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(2)]
        mail_ids = [self._outgoing_mail(ann, move_id) for move_id in move_ids]
        self.smtp.refuse_recipient("gone@concurrent.example.com")
        with self.registry.cursor() as cr:
            mail = api.Environment(cr, SUPERUSER_ID, {})["mail.mail"].browse(
                mail_ids[1]
            )
            mail.email_to += ", gone@concurrent.example.com"
        with (
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["mail.mail"].browse(mail_ids).send(auto_commit=True)
        with self.registry.cursor() as cr:
            mails = api.Environment(cr, SUPERUSER_ID, {})["mail.mail"].browse(mail_ids)
            self.assertEqual(mails.mapped("state"), ["sent", "sent"])
            self.assertFalse(mails[0].equisis_refused)
            self.assertIn("gone@concurrent.example.com", mails[1].equisis_refused)
        self.assertEqual(len(self.smtp.received), 2)

    def test_two_processes_sending_through_one_personal_server(self):
        """Two processes deliver two different mails through the same
        personal server at the same instant. The host counts both on the
        server's row; the one that cannot write it leaves its mail to the
        host's queue instead of failing after the SMTP step: each mail
        reaches the server once."""
        ann = self.user_ids[0]
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(2)]
        mail_ids = [self._outgoing_mail(ann, move_id) for move_id in move_ids]
        self.smtp.state.data_delay = 1.5
        errors = self._at_the_same_instant(
            *(
                lambda env, mail_id=mail_id: (
                    env["mail.mail"].browse(mail_id)._equisis_deliver()
                )
                for mail_id in mail_ids
            )
        )
        self.assertFalse(errors)
        # The host's queue runs later and sends what was left to it.
        with (
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            api.Environment(cr, SUPERUSER_ID, {})["mail.mail"].process_email_queue(
                email_ids=mail_ids
            )
        self.assertEqual(len(self.smtp.received), 2)
        for move_id in move_ids:
            self.assertEqual(self._mails(move_id), (["sent"], True))

    def test_pipeline_that_commits_or_raises_mails_each_document_once(self):
        """A localisation's e-invoice step commits (as Spain's or Poland's
        do) and raises for one invoice: the others are mailed once, the one
        at fault says why on its chatter, and a second run mails nothing
        again."""
        move_ids, send_class, original = self._three_queued_and_their_step()

        def committing_hook(send, invoices_data):
            original(send, invoices_data)
            send.env.cr.commit()  # what the localisation does
            if any(invoice.id == move_ids[1] for invoice in invoices_data):
                raise RuntimeError("tax authority unreachable")

        with (
            patch.object(
                send_class,
                "_call_web_service_before_invoice_pdf_render",
                committing_hook,
            ),
            mute_logger("odoo.addons.equisis_mail.models.equisis_mail_service"),
        ):
            self._run_background()
            self._run_background()
        recipients_by_invoice = [self._mails(move_id) for move_id in move_ids]
        self.assertEqual(len(self.smtp.received), 2)
        self.assertEqual(recipients_by_invoice[0], (["sent"], True))
        self.assertEqual(recipients_by_invoice[1], ([], False))
        self.assertEqual(recipients_by_invoice[2], (["sent"], True))
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertFalse(env["equisis.mail.queue"].search_count([]))
            notes = env["account.move"].browse(move_ids[1]).message_ids.mapped("body")
            self.assertTrue(
                any("tax authority unreachable" in str(note) for note in notes), notes
            )

    def test_document_that_stops_its_process_fails_alone(self):
        """Making one invoice stops the process (Odoo's time or memory limit
        kills a worker; here an exception nothing catches): the run commits
        nothing, and without more the next runs would take the same chunk
        and stop again, forever. The next runs make that chunk's invoices
        one at a time: the others are mailed, and the invoice that stopped
        its process twice on its own fails with the reason."""
        self._stop_on_the_second_of_three(commit=False)

    def test_document_that_stops_its_process_after_a_commit_fails_alone(self):
        """The same after an e-invoice step that commits (as several
        localisations' do): the attempt's transaction committed, the
        document is still queued."""
        self._stop_on_the_second_of_three(commit=True)

    def test_documents_made_one_at_a_time_stop_when_the_run_is_over(self):
        """Documents whose earlier attempt stopped its process are made one
        at a time, first, each in a few seconds; a run past its time makes
        no more of them (Odoo would stop the worker past its limit, and the
        document under way would be blamed): the rest stays queued, Odoo is
        told so, and the next run sends it. Here the first of four invoices
        was queued after the others' process stopped, and the run's time is
        up once the first mail is made."""
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(4)]
        self._queue(self.user_ids[0], move_ids)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            entries = env["equisis.mail.queue"].search([])
            self.assertEqual(entries.mapped("res_id"), move_ids)
            # The chunk's process stopped: its transaction never committed.
            cr.execute("SELECT pg_current_xact_id()::text")
            stopped = cr.fetchone()[0]
            cr.rollback()
            for entry in entries[1:]:
                env["equisis.mail.attempt"].create(
                    {"entry_id": entry.id, "transaction": stopped}
                )
        service_class = self.registry["equisis.mail.service"]

        def past_overtime(service):
            return bool(self.smtp.received)

        with (
            patch.object(service_class, "_past_overtime", past_overtime),
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            # Its 10 seconds are over too: Odoo calls it again later.
            progress = self._run_lane_as_cron(cr, time.monotonic() - 1)
            self.assertEqual((progress.done, progress.remaining), (1, 3))
        self.assertEqual(
            [self._mails(move_id)[0] for move_id in move_ids],
            [[], ["sent"], [], []],
        )
        self._run_background()
        self.assertEqual(len(self.smtp.received), 4)
        self.assertEqual(
            [self._mails(move_id) for move_id in move_ids], [(["sent"], True)] * 4
        )

    def _three_queued_and_their_step(self):
        """Three invoices queued by one user, and the host's e-invoice step
        a test wraps.

        :return: (invoice ids, account.move.send's class, the step)
        """
        move_ids = [self._make_invoice() for _ in range(3)]
        self._queue(self.user_ids[0], move_ids)
        send_class = self.registry["account.move.send"]
        return (
            move_ids,
            send_class,
            send_class._call_web_service_before_invoice_pdf_render,
        )

    def _stop_on_the_second_of_three(self, commit):
        move_ids, send_class, original = self._three_queued_and_their_step()

        def stopping_hook(send, invoices_data):
            original(send, invoices_data)
            if commit:
                send.env.cr.commit()  # what the localisation does
            if any(invoice.id == move_ids[1] for invoice in invoices_data):
                raise ProcessDied

        with patch.object(
            send_class, "_call_web_service_before_invoice_pdf_render", stopping_hook
        ):
            # The chunk, then the invoice alone, twice.
            for _run in range(3):
                with self.assertRaises(ProcessDied):
                    self._run_background()
            self.assertEqual(len(self.smtp.received), 1)
            with mute_logger("odoo.addons.equisis_mail.models.equisis_mail_service"):
                self._run_background()
        self.assertEqual(len(self.smtp.received), 2)
        self.assertEqual(self._mails(move_ids[0]), (["sent"], True))
        self.assertEqual(self._mails(move_ids[1]), ([], False))
        self.assertEqual(self._mails(move_ids[2]), (["sent"], True))
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertFalse(env["equisis.mail.queue"].search_count([]))
            move = env["account.move"].browse(move_ids[1])
            self.assertEqual(move.equisis_mail_state, "failed")
            self.assertIn("the server stopped", move.equisis_mail_failure)
        # The attempts go with the next run.
        self._run_background()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertFalse(self._created(env, "equisis.mail.attempt"))

    def test_background_lanes_that_stop_when_the_queue_is_empty(self):
        """Two scheduled actions do the background work, one per default
        cron thread; a run with nothing to take leaves no trigger behind, so
        no cron thread spins."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            crons = env["ir.cron"].search(
                [("model_id.model", "=", "equisis.mail.service")]
            )
            self.assertEqual(
                crons,
                env.ref("equisis_mail.ir_cron_equisis_send")
                | env.ref("equisis_mail.ir_cron_equisis_send_lane"),
            )
            env["ir.cron.trigger"].search([("cron_id", "in", crons.ids)]).unlink()
        self._run_background()
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})[
                "equisis.mail.service"
            ]._cron_send_lane()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertFalse(
                env["ir.cron.trigger"].search_count(
                    [("cron_id.model_id.model", "=", "equisis.mail.service")]
                )
            )

    def test_rested_second_lane_starts_out_of_step(self):
        """Two lanes that start together render at once and then wait for
        wkhtmltopdf at once. The second lane, when it sent nothing lately,
        starts with half a chunk, so that it renders while the first waits;
        then it takes whole chunks. A queue of at most a chunk per lane is
        shared as before. Chunks of 2 documents here, and no minimum."""
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(6)]
        self._queue(self.user_ids[0], move_ids)
        self._set_chunk_size(2)
        self.addCleanup(self._set_chunk_size, False)
        done = []
        with (
            patch.object(service_module, "MIN_CHUNK", 1),
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            self._rest_second_lane(cr)
            # Each run's time is up after one chunk.
            done.append(self._run_lane_as_cron(cr, time.monotonic() - 1).done)
            done.append(self._run_lane_as_cron(cr, time.monotonic() - 1).done)
            self._rest_second_lane(cr)
            done.append(self._run_lane_as_cron(cr, time.monotonic() - 1).done)
        # 6 queued: half a chunk; 5: a whole one; rested again, but 3 queued
        # (less than a chunk per lane): their share, a whole chunk.
        self.assertEqual(done, [1, 2, 2])
        self._run_background()
        self.assertEqual(len(self.smtp.received), 6)

    def test_rested_second_lane_takes_no_more_than_a_chunk(self):
        """Half a chunk is at least 10 documents, never more than a chunk:
        with chunks of 2, the rested second lane takes 2 of 5."""
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(5)]
        self._queue(self.user_ids[0], move_ids)
        self._set_chunk_size(2)
        self.addCleanup(self._set_chunk_size, False)
        with (
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            self._rest_second_lane(cr)
            progress = self._run_lane_as_cron(cr, time.monotonic() - 1)
            self.assertEqual(progress.done, 2)
        self._run_background()
        self.assertEqual(len(self.smtp.received), 5)

    @contextmanager
    def _worker_cpu_limit(self, seconds):
        """A cron worker of Odoo's multi-process server, with Odoo's default
        CPU time limit for a pass (60 s), ``seconds`` of it left. Reaching
        it is noted and fails the test, instead of stopping the test
        server."""
        reached = []
        limits = resource.getrlimit(resource.RLIMIT_CPU)
        previous = signal.signal(signal.SIGXCPU, lambda *_args: reached.append(1))
        try:
            with patch.dict(config.options, {"workers": 2, "limit_time_cpu": 60}):
                usage = resource.getrusage(resource.RUSAGE_SELF)
                resource.setrlimit(
                    resource.RLIMIT_CPU,
                    (int(usage.ru_utime + usage.ru_stime) + seconds, limits[1]),
                )
                yield
        finally:
            resource.setrlimit(resource.RLIMIT_CPU, limits)
            time.sleep(0.05)  # a signal already sent finds this handler
            signal.signal(signal.SIGXCPU, previous)
        self.assertFalse(reached, "the CPU time limit was reached")

    def test_run_near_the_worker_cpu_limit_takes_no_chunk(self):
        """With less CPU time left before the worker's limit than a chunk
        may need, a run takes no chunk and calls its lane again: the
        worker's next pass starts with all its CPU time."""
        self._assert_lane_run_takes_no_chunk(
            time.monotonic() + 10,
            self._worker_cpu_limit(service_module.CPU_MARGIN - 5),
        )

    def _rest_second_lane(self, cr):
        """As if the second lane had sent nothing for a minute."""
        lane = api.Environment(cr, SUPERUSER_ID, {}).ref(
            "equisis_mail.ir_cron_equisis_send_lane"
        )
        cr.execute(
            SQL(
                "UPDATE ir_cron_progress SET write_date = %s WHERE cron_id = %s",
                fields.Datetime.now() - timedelta(minutes=1),
                lane.id,
            )
        )

    def _forget_personal_limits(self):
        """Odoo lets a personal server send 30 mails a minute: the tests
        after this one start with none sent."""
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["ir.mail_server"].search(
                [("owner_user_id", "!=", False)]
            ).write({"owner_limit_count": 0})

    def _set_chunk_size(self, size):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["ir.config_parameter"].set_param(
                "equisis_mail.chunk_size", size
            )

    def test_two_lanes_at_once_mail_each_document_once(self):
        """Both lanes run at the same instant, as Odoo's two default cron
        threads do: each takes chunks of its own, and together they mail
        each document once. Chunks of 2 documents here, so that 4 make a
        chunk per lane."""
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(4)]
        self._queue(self.user_ids[0], move_ids)
        self._set_chunk_size(2)
        # Committed: removed after, so that the default applies again.
        self.addCleanup(self._set_chunk_size, False)
        service_class = self.registry["equisis.mail.service"]
        original = service_class._send_entries
        senders = []

        def send_entries(service, entries):
            senders.append((threading.current_thread().name, len(entries)))
            return original(service, entries)

        self.smtp.state.data_delay = 0.5
        with patch.object(service_class, "_send_entries", send_entries):
            errors = self._at_the_same_instant(
                lambda env: env["equisis.mail.service"]._cron_send(),
                lambda env: env["equisis.mail.service"]._cron_send_lane(),
            )
        self.assertFalse(errors)
        self.assertEqual(len({name for name, _count in senders}), 2, senders)
        self.assertEqual(sum(count for _name, count in senders), 4, senders)
        # Both lanes deliver through Ann's personal server: the one that
        # cannot count its mails on the server's row leaves them to the
        # host's queue, which runs later.
        with (
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            env = api.Environment(cr, SUPERUSER_ID, {})
            outgoing = env["mail.mail"].search(
                [("equisis_res_id", "in", move_ids), ("state", "=", "outgoing")]
            )
            env["mail.mail"].process_email_queue(email_ids=outgoing.ids)
        self.assertEqual(len(self.smtp.received), 4)
        for move_id in move_ids:
            self.assertEqual(self._mails(move_id), (["sent"], True))

    def test_lane_does_not_mail_what_the_other_took_after_its_commit(self):
        """A chunk of two senders' documents: the first lane commits the
        first sender's mails, which releases its hold on the others; the
        second lane takes and mails those meanwhile. The first lane then
        leaves them: each document is mailed once."""
        ann, ben = self.user_ids
        ann_moves = [self._make_invoice(legal_pdf=True) for _ in range(2)]
        ben_moves = [self._make_invoice(legal_pdf=True) for _ in range(2)]
        self._queue(ann, ann_moves)
        self._queue(ben, ben_moves)
        service_class = self.registry["equisis.mail.service"]
        original = service_class._make_as
        first_lane = {}
        paused, other_lane_done = threading.Event(), threading.Event()

        made_by_lane = {}

        def make_as(service, author, company, entry_by_record):
            made_by_lane.setdefault(threading.current_thread().name, set()).update(
                entry.id for entry in entry_by_record.values()
            )
            mails = original(service, author, company, entry_by_record)
            first = threading.current_thread() is first_lane.get("thread")
            if first and not paused.is_set():
                paused.set()
                other_lane_done.wait(60)
            return mails

        def run_first_lane(env):
            first_lane["thread"] = threading.current_thread()
            env["equisis.mail.service"]._cron_send()

        def run_second_lane(env):
            paused.wait(60)
            try:
                env["equisis.mail.service"]._cron_send_lane()
            finally:
                other_lane_done.set()

        with patch.object(service_class, "_make_as", make_as):
            errors = self._at_the_same_instant(run_first_lane, run_second_lane)
        self.assertFalse(errors)
        self.assertTrue(paused.is_set())
        first, second = made_by_lane.values()
        self.assertEqual(len(first | second), 4, made_by_lane)
        self.assertFalse(first & second, made_by_lane)
        self.assertEqual(len(self.smtp.received), 4)
        with self.registry.cursor() as cr:
            moves = api.Environment(cr, SUPERUSER_ID, {})["account.move"].browse(
                ann_moves + ben_moves
            )
            self.assertEqual(set(moves.mapped("equisis_mail_state")), {"sent"})
            notes = moves.message_ids.mapped("body")
            self.assertFalse([note for note in notes if "not sent" in str(note)])
        for move_id in ann_moves + ben_moves:
            self.assertEqual(self._mails(move_id), (["sent"], True))

    def _run_lane_as_cron(self, cr, end_time=None):
        """Call the second lane as Odoo's cron does, with its progress (and
        the end of its run's time, when given).

        :return: its ir.cron.progress
        """
        lane = api.Environment(cr, SUPERUSER_ID, {}).ref(
            "equisis_mail.ir_cron_equisis_send_lane"
        )
        context = {"cron_id": lane.id}
        if end_time is not None:
            context["cron_end_time"] = end_time
        env = api.Environment(cr, SUPERUSER_ID, context)
        cron, progress = env["ir.cron"].browse(lane.id)._add_progress()
        cron.env["equisis.mail.service"]._cron_send_lane()
        return progress

    def test_run_called_again_after_its_time_sends_a_chunk(self):
        """Odoo calls a scheduled action that reports progress again, up to
        10 times, after its 10 seconds are up: each call sends a chunk. A
        call that sent nothing would end the run, and the next would wait
        for a cron thread to wake up, up to a minute."""
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(2)]
        self._queue(self.user_ids[0], move_ids)
        with (
            self.registry.cursor() as cr,
            real_delivery(api.Environment(cr, SUPERUSER_ID, {})),
        ):
            # The run's 10 seconds are just over.
            progress = self._run_lane_as_cron(cr, time.monotonic() - 1)
            self.assertEqual((progress.done, progress.remaining), (2, 0))
        self.assertEqual(len(self.smtp.received), 2)

    def test_long_run_ends_and_calls_its_lane_again_at_once(self):
        """A run far past its time takes no new chunk, so that no cron
        thread outlives Odoo's time limit (the server restarts then), and
        leaves a trigger for its lane: Odoo's cron threads wake up at its
        end instead of up to a minute later."""
        self._assert_lane_run_takes_no_chunk(time.monotonic() - 100)

    def test_run_late_in_its_cron_thread_pass_takes_no_chunk(self):
        """Odoo's time limit counts from the start of the cron thread's
        pass, which ran another long job first: a lane's run that starts
        there takes no chunk and calls its lane again, although its own
        time has just begun (its threaded server restarts past the limit)."""
        self._assert_lane_run_takes_no_chunk(
            time.monotonic() + 10, self._cron_pass_started(time.time() - 100)
        )

    @contextmanager
    def _cron_pass_started(self, when):
        """What Odoo's threaded server notes on its cron thread at the start
        of each pass."""
        thread = threading.current_thread()
        previous = (getattr(thread, "type", None), getattr(thread, "start_time", None))
        thread.type, thread.start_time = "cron", when
        try:
            yield
        finally:
            thread.type, thread.start_time = previous

    def _assert_lane_run_takes_no_chunk(self, end_time, within=None):
        """Of two queued invoices, a lane's run (its time ending at
        ``end_time``, inside the context ``within``) takes none, tells
        Odoo's cron both are left and calls its lane again; the next run
        sends them."""
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(2)]
        self._queue(self.user_ids[0], move_ids)
        with self.registry.cursor() as cr:
            lane = api.Environment(cr, SUPERUSER_ID, {}).ref(
                "equisis_mail.ir_cron_equisis_send_lane"
            )
            cr.execute(SQL("DELETE FROM ir_cron_trigger WHERE cron_id = %s", lane.id))
            with within or nullcontext():
                progress = self._run_lane_as_cron(cr, end_time)
            self.assertEqual((progress.done, progress.remaining), (0, 2))
        self.assertFalse(self.smtp.received)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            triggers = env["ir.cron.trigger"].search(
                [("cron_id", "=", lane.id), ("call_at", "<=", fields.Datetime.now())]
            )
            self.assertTrue(triggers)
        self._run_background()
        self.assertEqual(len(self.smtp.received), 2)

    def test_lane_with_nothing_to_take_reports_nothing_left(self):
        """While the other lane holds every queued document, a lane's run
        reports nothing left to Odoo's cron, which would otherwise call it
        again at once, in a loop, as long as the other lane works."""
        move_ids = [self._make_invoice(legal_pdf=True) for _ in range(2)]
        self._queue(self.user_ids[0], move_ids)
        with self.registry.cursor() as holder:
            holder.execute("SELECT id FROM equisis_mail_queue FOR UPDATE")
            self.assertEqual(len(holder.fetchall()), 2)
            with self.registry.cursor() as cr:
                progress = self._run_lane_as_cron(cr)
                self.assertEqual((progress.done, progress.remaining), (0, 0))
            self.assertFalse(self.smtp.received)
        self._run_background()
        self.assertEqual(len(self.smtp.received), 2)
