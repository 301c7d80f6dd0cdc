# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bad input and SMTP faults: nothing lost, nothing sent twice."""

import socket
from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.base.models import ir_mail_server as base_mail_server

from .common import EquisisSendCase, cron_progress_without_commit, real_delivery

MAIL_LOGGER = "odoo.addons.mail.models.mail_mail"


@tagged("post_install", "-at_install")
class TestSmtpFaults(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = [
            cls.make_partner(f"Client {i}", f"client{i}@example.com") for i in range(5)
        ]

    def _batch(self):
        moves = self.env["account.move"]
        for partner in self.partners:
            moves |= self.make_invoice(partner)
        return moves

    def _received_moves(self, moves):
        """The documents whose mail the fixture received, by subject."""
        subjects = [mail.message["Subject"] for mail in self.smtp.received]
        return moves.filtered(lambda move: any(move.name in s for s in subjects))

    def _retry(self, moves):
        with real_delivery(self.env):
            moves.with_user(self.sender).action_equisis_retry_mail()

    def _assert_all_failed_then_retried(self, moves, working_port):
        """Nothing left, every document failed; once the server is back,
        retrying sends each document exactly once."""
        self.assertFalse(self.smtp.received)
        self.assertFalse(any(moves.mapped("is_move_sent")))
        self.assertEqual(set(moves.mapped("equisis_mail_state")), {"failed"})
        self.sender.smtp_port = working_port
        self._retry(moves)
        self.assertEqual(len(self.smtp.received), 5)
        self.assertEqual(self._received_moves(moves), moves)
        self.assertTrue(all(moves.mapped("is_move_sent")))

    @mute_logger(MAIL_LOGGER)
    def test_421_mid_batch_then_retry_sends_each_once(self):
        """The server shuts down after two mails: the third is refused with
        its answer, the fourth hits the closed session, the fifth was never
        tried and stays queued; in the end each document is mailed once."""
        moves = self._batch()
        self.smtp.fail_data_after(2)
        self.send(self.open_wizard(moves))
        accepted = self._received_moves(moves)
        self.assertEqual(accepted, moves[:2])
        self.assertEqual(moves.filtered("is_move_sent"), accepted)
        self.assertEqual(moves[2].equisis_mail_state, "failed")
        self.assertIn("421", moves[2].equisis_mail_failure)
        self.assertEqual(moves[3].equisis_mail_state, "failed")
        self.assertIn("closed the connection", moves[3].equisis_mail_failure)
        self.assertEqual(moves[4].equisis_mail_state, "queued")
        # The server is back: the host's queue sends the untried one, and
        # retrying sends the two that failed.
        self.smtp.state.fail_data_after = None
        self.flush_mail_queue()
        self._retry(moves)
        with cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        self.assertEqual(len(self.smtp.received), 5)
        self.assertEqual(self._received_moves(moves), moves)
        self.assertTrue(all(moves.mapped("is_move_sent")))

    @mute_logger(MAIL_LOGGER)
    def test_session_lost_after_the_message_says_it_may_have_left(self):
        """The server kept the third mail and the connection was lost before
        its answer: that mail fails as one that may have left (never sent
        again by itself), the two before it are sent, the two after it go
        with the host's queue."""
        moves = self._batch()
        self.smtp.drop_after_data(2)
        self.send(self.open_wizard(moves))
        self.assertEqual(self._received_moves(moves), moves[:3])
        self.assertEqual(moves.filtered("is_move_sent"), moves[:2])
        self.assertEqual(moves[2].equisis_mail_state, "failed")
        self.assertIn(
            "may have left: the connection to the mail server was lost",
            moves[2].equisis_mail_failure,
        )
        self.assertIn("Retry", moves[2].equisis_mail_failure)
        self.assertEqual(set(moves[3:].mapped("equisis_mail_state")), {"queued"})
        self.smtp.state.drop_after_data = None
        self.flush_mail_queue()
        self.assertEqual(len(self.smtp.received), 5)
        self.assertEqual(self._received_moves(moves), moves)
        self.assertEqual(moves.filtered("is_move_sent"), moves - moves[2])
        self.assertEqual(moves[2].equisis_mail_state, "failed")

    @mute_logger(MAIL_LOGGER)
    def test_dropped_session_leaves_the_rate_limited_mail_queued(self):
        """Four mails through a server limited to three a minute, and a 421
        after the first: the fourth was never tried and keeps its schedule."""
        self.env["ir.config_parameter"].set_param(
            "mail.server.personal.limit.minutes", 3
        )
        moves = self._batch()[:4]
        self.smtp.fail_data_after(1)
        self.send(self.open_wizard(moves))
        self.assertEqual(self._received_moves(moves), moves[0])
        mails = {
            mail._equisis_document(): mail
            for mail in self.env["mail.mail"].search(
                [
                    ("equisis_model", "=", "account.move"),
                    ("equisis_res_id", "in", moves.ids),
                ]
            )
        }
        self.assertEqual(mails[moves[0]].state, "sent")
        self.assertEqual(mails[moves[1]].state, "exception")
        self.assertEqual(mails[moves[2]].state, "exception")
        held = mails[moves[3]]
        self.assertEqual(held.state, "outgoing")
        self.assertFalse(held.failure_reason)
        self.assertGreater(held.scheduled_date, held.create_date)
        self.assertEqual(moves[3].equisis_mail_state, "queued")
        self.assertFalse(moves[3].is_move_sent)

    def test_recording_that_fails_after_acceptance_never_sends_twice(self):
        """The server accepted the mail; marking the invoice then fails.
        The mail is not sent again, and the invoice ends marked sent."""
        move = self.make_invoice(self.partners[0])
        move_class = self.env.registry["account.move"]
        original = move_class._equisis_mark_sent

        def fail_once(records, mails):
            raise psycopg2.errors.SerializationFailure("could not serialize access")

        with (
            patch.object(move_class, "_equisis_mark_sent", fail_once),
            mute_logger("odoo.addons.equisis_mail.models.mail_mail"),
        ):
            self.send(self.open_wizard(move))
        self.assertEqual(len(self.smtp.received), 1)
        mail = self.env["mail.mail"].search(
            [("equisis_model", "=", "account.move"), ("equisis_res_id", "=", move.id)]
        )
        self.assertEqual(mail.state, "sent")
        self.assertFalse(mail.equisis_reported)
        self.assertFalse(move.is_move_sent)
        # Until it is recorded, the invoice counts as on its way: a new
        # window cannot mail it again.
        line = self.open_wizard(move).line_ids
        self.assertIn("already waiting to be sent", line.problem)
        # The host's queue has nothing to send; the background run records it.
        self.flush_mail_queue()
        self.assertEqual(len(self.smtp.received), 1)
        self.assertIs(move_class._equisis_mark_sent, original)
        with cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        self.assertTrue(move.is_move_sent)
        self.assertTrue(mail.equisis_reported)
        self.assertEqual(len(self.smtp.received), 1)

    @mute_logger(MAIL_LOGGER)
    def test_connection_refused(self):
        moves = self._batch()
        port = self.sender.smtp_port
        self.sender.smtp_port = 1
        wizard = self.open_wizard(moves)
        action = self.send(wizard)
        self.assertFalse(self.default_smtp.received)
        # The window shows again with the server's answer, never a success.
        self.assertEqual(action["res_id"], wizard.id)
        self.assertEqual(wizard.result_state, "failed")
        self.assertIn(
            f"No mail was sent. {len(moves)} mails failed.", wizard.result_message
        )
        for move in moves:
            self.assertIn(move.name, wizard.result_failures)
        # In plain words: which server refused, where to change it.
        self.assertIn(
            f"{self.sender.smtp_host}:1 refused the connection", wizard.result_failures
        )
        self._assert_all_failed_then_retried(moves, port)

    @mute_logger(MAIL_LOGGER)
    def test_authentication_failure(self):
        moves = self._batch()
        self.sender.smtp_pass = "wrong"
        self.send(self.open_wizard(moves))
        self.assertFalse(self.smtp.received)
        self.assertFalse(any(moves.mapped("is_move_sent")))
        self.assertIn("535", moves[0].equisis_mail_failure)
        self.sender.smtp_pass = "sender-secret"
        self._retry(moves)
        self.assertEqual(len(self.smtp.received), 5)

    @mute_logger(MAIL_LOGGER)
    def test_timeout(self):
        """A server that accepts the connection and never answers."""
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        self.addCleanup(silent.close)
        moves = self._batch()
        port = self.sender.smtp_port
        self.sender.smtp_port = silent.getsockname()[1]
        # Odoo waits 60 s; the test waits 2.
        with patch.object(base_mail_server, "SMTP_TIMEOUT", 2):
            self.send(self.open_wizard(moves))
        self._assert_all_failed_then_retried(moves, port)

    def test_one_of_two_recipients_refused(self):
        move = self.make_invoice(self.partners[0])
        line = self.open_wizard(move).line_ids
        line.email_to = "client0@example.com; gone@example.com"
        self.smtp.refuse_recipient("gone@example.com")
        self.send(line.wizard_id)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(self.smtp.received[0].rcpt_tos, ["client0@example.com"])
        # The server accepted the mail for the other recipient: sent, and the
        # refused address is named with the server's answer.
        self.assertTrue(move.is_move_sent)
        self.assertEqual(move.equisis_mail_state, "partial")
        self.assertIn("gone@example.com: 550", move.equisis_mail_failure)
        mail = self.env["mail.mail"].search(
            [("equisis_model", "=", "account.move"), ("equisis_res_id", "=", move.id)]
        )
        self.assertEqual(mail.state, "sent")
        self.assertIn("gone@example.com", mail.equisis_refused)
        note = move.message_ids.filtered(lambda m: "refused these" in (m.body or ""))
        self.assertIn("gone@example.com: 550", note.body)

    @mute_logger(MAIL_LOGGER)
    def test_every_recipient_refused_but_the_senders_copy(self):
        """Only the sender's blind copy went: the document was not sent."""
        self.sender.bcc_confirmation = True
        move = self.make_invoice(self.partners[0])
        self.smtp.refuse_recipient("client0@example.com")
        self.send(self.open_wizard(move))
        self.assertEqual(self.smtp.received[0].rcpt_tos, ["sophie@example.com"])
        self.assertFalse(move.is_move_sent)
        self.assertEqual(move.equisis_mail_state, "failed")
        self.assertIn("refused every recipient", move.equisis_mail_failure)

    @mute_logger(MAIL_LOGGER)
    def test_outcomes_recorded_together_mark_only_the_sent_document(self):
        """In production a delivery's outcomes are recorded together after
        its commits (up to 50 mails at once): the invoice whose mail was
        refused is neither marked sent nor told it was."""
        self.sender.bcc_confirmation = False
        moves = self.make_invoice(self.partners[0]) | self.make_invoice(
            self.partners[1]
        )
        self.smtp.refuse_recipient("client1@example.com")
        self.send(self.open_wizard(moves))
        mails = self.mails_of(moves)
        self.assertEqual(
            {mail.equisis_res_id: mail.state for mail in mails},
            {moves[0].id: "sent", moves[1].id: "exception"},
        )
        # As the delivery leaves them before their outcomes are recorded.
        mails.equisis_reported = False
        moves.is_move_sent = False
        moves.sudo().equisis_mail_state = "queued"
        mails._equisis_record()
        self.assertTrue(moves[0].is_move_sent)
        self.assertEqual(moves[0].equisis_mail_state, "sent")
        self.assertFalse(moves[1].is_move_sent)
        self.assertEqual(moves[1].equisis_mail_state, "failed")

    @mute_logger(MAIL_LOGGER)
    def test_send_anew_whose_files_fail_keeps_the_failed_mail(self):
        """A document sent anew whose files then fail gets no new mail: its
        failed mail is not cancelled, and “Retry e-mail” still sends it."""
        move = self.make_invoice(self.partners[0])
        self.smtp.refuse_recipient("client0@example.com")
        self.send(self.open_wizard(move))
        failed = self.mails_of(move)
        self.assertEqual(failed.state, "exception")
        self.smtp.reset()

        def no_files(moves, report_by_id):
            return {}, dict.fromkeys(report_by_id, "The e-invoice service is down.")

        with patch.object(
            type(self.env["account.move"]), "_equisis_mail_files", no_files
        ):
            self.send(self.open_wizard(move))
        self.assertFalse(self.smtp.received)
        self.assertEqual(failed.state, "exception")
        self._retry(move)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertTrue(move.is_move_sent)

    @mute_logger(MAIL_LOGGER)
    def test_every_recipient_refused_says_so_plainly(self):
        """No copy at all went: the reason names the address and the
        server's answer, not the host's exception."""
        self.sender.bcc_confirmation = False
        move = self.make_invoice(self.partners[0])
        self.smtp.refuse_recipient("client0@example.com")
        self.send(self.open_wizard(move))
        self.assertFalse(self.smtp.received)
        self.assertEqual(move.equisis_mail_state, "failed")
        self.assertIn(
            "refused every recipient:\nclient0@example.com: 550 5.1.1",
            move.equisis_mail_failure,
        )
        for raw in ("SMTPRecipientsRefused", "'None'", "b'"):
            self.assertNotIn(raw, move.equisis_mail_failure)


@tagged("post_install", "-at_install")
class TestBadInput(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.make_partner("Client", "client@example.com")

    def test_two_hundred_recipients_one_mail(self):
        move = self.make_invoice(self.partner)
        line = self.open_wizard(move).line_ids
        line.email_to = "; ".join(f"person{i}@example.com" for i in range(200))
        self.assertFalse(line.problem)
        self.send(line.wizard_id)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(len(self.smtp.received[0].rcpt_tos), 200)

    def test_idn_recipient(self):
        move = self.make_invoice(self.partner)
        line = self.open_wizard(move).line_ids
        line.email_to = "jean@exämple.be"
        self.assertFalse(line.problem)
        self.send(line.wizard_id)
        self.assertEqual(self.smtp.received[0].rcpt_tos, ["jean@xn--exmple-cua.be"])

    def test_header_injection_in_recipients(self):
        move = self.make_invoice(self.partner)
        line = self.open_wizard(move).line_ids
        line.email_to = "client@example.com\r\nBcc: evil@example.com"
        self.assertIn("Malformed address", line.problem)

    def test_placeholder_that_fails_turns_the_line_red(self):
        letter = self.env["equisis.letter"].create(
            {
                "code": "BROKEN",
                "name": "Invoice {{ object.no_such_field }}",
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "lang_id": self.env.ref("base.lang_en").id,
                "body_html": "<p>Hello</p>",
            }
        )
        move = self.make_invoice(self.partner)
        wizard = self.open_wizard(move)
        wizard.line_ids.letter_id = letter
        self.assertIn("could not be rendered", wizard.line_ids.problem)
        with self.assertRaisesRegex(Exception, "No mail can be sent"):
            self.send(wizard)
        self.assertFalse(self.smtp.received)

    def test_document_cancelled_or_deleted_meanwhile(self):
        cancelled = self.make_invoice(self.partner)
        deleted = self.make_invoice(self.partner)
        kept = self.make_invoice(self.partner)
        wizard = self.open_wizard(cancelled | deleted | kept)
        cancelled.button_draft()
        cancelled.button_cancel()
        deleted.button_draft()
        deleted.unlink()
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertTrue(kept.is_move_sent)
        problems = wizard.line_ids.mapped("problem")
        self.assertEqual(len(problems), 2)
        self.assertTrue(any("not posted" in problem for problem in problems))
        self.assertTrue(any("no longer exists" in problem for problem in problems))

    def test_annex_deleted_meanwhile(self):
        move = self.make_invoice(self.partner)
        annex = self.env["ir.attachment"].create(
            {
                "name": "gone.txt",
                "raw": b"x",
                "res_model": "account.move",
                "res_id": move.id,
            }
        )
        line = self.open_wizard(move).line_ids
        line.attachment_ids = [Command.link(annex.id)]
        annex.unlink()
        self.send(line.wizard_id)
        names = [name for name, _content in self.smtp.received[0].attachments()]
        self.assertNotIn("gone.txt", names)
        self.assertTrue(move.is_move_sent)

    def test_thirty_megabyte_annex(self):
        move = self.make_invoice(self.partner)
        big = self.env["ir.attachment"].create(
            {
                "name": "scan.pdf",
                "raw": b"%PDF" + b"0" * (30 * 1024 * 1024),
                "res_model": "account.move",
                "res_id": move.id,
            }
        )
        line = self.open_wizard(move).line_ids
        line.attachment_ids = [Command.link(big.id)]
        self.assertIn("exceed", line.problem)
        line.attachment_ids = [Command.unlink(big.id)]
        self.assertFalse(line.problem)


@tagged("post_install", "-at_install", "-standard", "equisis_scale")
class TestScale(EquisisSendCase):
    """Run on demand (about 4 minutes):
    ``EQUISIS_TEST_TAGS=/equisis_mail,equisis_scale make test``."""

    def test_thousand_invoices_through_the_queue(self):
        """Every one of 1,000 mails is accounted for."""
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"Scale {i}",
                    "email": f"scale{i}@example.com",
                    "lang": "en_US",
                }
                for i in range(50)
            ]
        )
        moves = self.env["account.move"]
        # Created and posted 50 at a time: posting waits on every pending
        # computation of the invoices created before it.
        for start in range(0, 1000, 50):
            batch = self.env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partners[i % 50].id,
                        "invoice_date": "2026-11-02",
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": self.product.id,
                                    "price_unit": 10,
                                    "tax_ids": [],
                                }
                            )
                        ],
                    }
                    for i in range(start, start + 50)
                ]
            )
            batch.action_post()
            moves |= batch
        self.env["ir.config_parameter"].set_param(
            "mail.server.personal.limit.minutes", 5000
        )
        wizard = self.open_wizard(moves)
        self.assertEqual(len(wizard.line_ids), 1000)
        self.assertFalse(wizard.problem_count)
        self.send(wizard)
        self.assertEqual(set(moves.mapped("equisis_mail_state")), {"queued"})
        with real_delivery(self.env), cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        self.assertEqual(len(self.smtp.received), 1000)
        self.assertEqual(self.smtp.state.connections, 1)
        self.assertTrue(all(moves.mapped("is_move_sent")))
        mails = self.env["mail.mail"].search(
            [
                ("equisis_model", "=", "account.move"),
                ("equisis_res_id", "in", moves.ids),
            ]
        )
        self.assertEqual(len(mails), 1000)
        self.assertEqual(set(mails.mapped("state")), {"sent"})
