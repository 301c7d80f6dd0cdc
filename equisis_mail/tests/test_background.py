# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the sender learns of a batch sent in the background."""

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import EquisisSendCase, cron_progress_without_commit, real_delivery


@tagged("post_install", "-at_install")
class TestBackgroundSummary(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("equisis_mail.background_threshold", 2)
        cls.partner = cls.make_partner("Client", "client@example.com")
        cls.refused = cls.make_partner("Refused", "refused@example.com")

    def _summaries(self):
        """The messages OdooBot left in the sender's chat."""
        odoobot = self.env.ref("base.partner_root")
        return self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("author_id", "=", odoobot.id),
                (
                    "res_id",
                    "in",
                    self.env["discuss.channel"]
                    .search(
                        [
                            ("channel_type", "=", "chat"),
                            (
                                "channel_member_ids.partner_id",
                                "=",
                                self.sender.partner_id.id,
                            ),
                        ]
                    )
                    .ids,
                ),
            ]
        )

    def _one_summary(self):
        """The body of the one summary the sender was told."""
        summaries = self._summaries()
        self.assertEqual(len(summaries), 1, summaries.mapped("body"))
        return str(summaries.body)

    def _run(self):
        with real_delivery(self.env), cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_one_summary_when_the_whole_batch_is_done(self):
        """A sender who takes notifications by e-mail still finds the one
        summary of the batch inside Odoo, in French, with the counts and a
        link to the document that was not sent; a later run adds none."""
        self.sender.write({"notification_type": "email", "lang": "fr_FR"})
        moves = self.make_invoice(self.partner) | self.make_invoice(self.partner)
        bad = self.make_invoice(self.refused)
        self.send(self.open_wizard(moves | bad))
        self.assertFalse(self._summaries())
        self.smtp.refuse_recipient("refused@example.com")
        self._run()
        body = self._one_summary()
        self.assertIn("3 documents", body)
        self.assertIn("Envoyés : 2", body)
        self.assertIn("Non envoyés : 1", body)
        self.assertIn(f'href="/odoo/account.move/{bad.id}"', body)
        self.assertEqual(bad.equisis_mail_state, "failed")
        self._run()
        self.assertEqual(len(self._summaries()), 1)

    def test_summary_waits_for_mails_held_back_by_the_limit(self):
        """Mails the personal server's limit holds back leave with Odoo's
        queue a minute later; the batch is done, and told, only then."""
        self.env["ir.config_parameter"].set_param(
            "mail.server.personal.limit.minutes", 2
        )
        moves = self.make_invoice(self.partner)
        for _index in range(2):
            moves |= self.make_invoice(self.partner)
        self.send(self.open_wizard(moves))
        self._run()
        self.assertEqual(len(self.smtp.received), 2)
        self.assertFalse(self._summaries())
        held = self.env["mail.mail"].search(
            [("equisis_res_id", "in", moves.ids), ("state", "=", "outgoing")]
        )
        self.assertEqual(len(held), 1)
        held.scheduled_date = False
        self.sender.outgoing_mail_server_id.sudo().owner_limit_time = False
        # Sent by an administrator from Odoo's screens: not the superuser.
        admin = self.env.ref("base.user_admin")
        with real_delivery(self.env):
            self.env["mail.mail"].with_user(admin).process_email_queue(
                email_ids=held.ids
            )
        self.assertEqual(len(self.smtp.received), 3)
        summaries = self._summaries()
        self.assertEqual(len(summaries), 1)
        self.assertIn("3 sent", str(summaries.body))

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_summary_leaves_out_a_document_sent_anew_meanwhile(self):
        """A document whose mail failed, then sent anew from the window
        while its batch still waited for a held-back mail, is no longer
        listed in the batch's summary as one to retry."""
        self.env["ir.config_parameter"].set_param(
            "mail.server.personal.limit.minutes", 2
        )
        bad = self.make_invoice(self.refused)
        moves = bad | self.make_invoice(self.partner) | self.make_invoice(self.partner)
        self.smtp.refuse_recipient("refused@example.com")
        self.send(self.open_wizard(moves))
        self._run()
        self.assertEqual(bad.equisis_mail_state, "failed")
        self.assertFalse(self._summaries())
        self.refused.email = "fixed@example.com"
        self.send(self.open_wizard(bad))
        held = self.env["mail.mail"].search(
            [("equisis_res_id", "in", moves.ids), ("state", "=", "outgoing")]
        )
        held.scheduled_date = False
        self.sender.outgoing_mail_server_id.sudo().owner_limit_time = False
        with real_delivery(self.env):
            held.send()
        self.assertEqual(bad.equisis_mail_state, "sent")
        self._run()
        body = self._one_summary()
        self.assertIn("2 sent, 0 not sent", body)
        self.assertIn("Sent anew since, by another sending: 1.", body)
        self.assertNotIn(f"/odoo/account.move/{bad.id}", body)

    def test_a_document_changed_while_queued_is_not_mailed(self):
        """The background run asks again what the window asked: an invoice
        reset to draft, and one marked sent by Odoo's own Print & Send while
        they waited, are not mailed, and each says why."""
        drafted, sent_elsewhere, good = (
            self.make_invoice(self.partner) for _i in range(3)
        )
        moves = drafted | sent_elsewhere | good
        self.send(self.open_wizard(moves))
        self.assertEqual(self.queued(moves), moves)
        drafted.button_draft()
        # What the host's Print & Send writes once its mail is sent.
        sent_elsewhere.is_move_sent = True
        self._run()
        self.assertEqual(len(self.smtp.received), 1)
        self.assertIn(good.name, self.smtp.received[0].message["Subject"])
        self.assertEqual(good.equisis_mail_state, "sent")
        self.assertFalse(self.mails_of(drafted) | self.mails_of(sent_elsewhere))
        self.assertEqual(drafted.equisis_mail_state, "failed")
        self.assertIn("not posted", drafted.equisis_mail_failure)
        self.assertEqual(sent_elsewhere.equisis_mail_state, "failed")
        self.assertIn("sent from elsewhere", sent_elsewhere.equisis_mail_failure)
        self.assertIn("Not made", str(self._summaries()[:1].body))

    def test_an_invoice_sent_again_on_purpose_is_mailed(self):
        """An invoice already sent when it was queued (the window's “Send
        them again”) is mailed: only a send from elsewhere stops it."""
        moves = self.make_invoice(self.partner) | self.make_invoice(self.partner)
        moves[0].is_move_sent = True
        wizard = self.open_wizard(moves | self.make_invoice(self.partner))
        wizard.resend_confirmed = True
        self.send(wizard)
        self._run()
        self.assertEqual(len(self.smtp.received), 3)

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_retry_of_an_invoice_reset_to_draft_is_refused(self):
        """An invoice whose mail was refused is reset to draft: “Retry
        e-mail” says so and sends nothing, as the window would."""
        move = self.make_invoice(self.refused)
        self.smtp.refuse_recipient("refused@example.com")
        self.send(self.open_wizard(move))
        self.assertEqual(move.equisis_mail_state, "failed")
        move.button_draft()
        self.smtp.reset()
        with (
            real_delivery(self.env),
            self.assertRaisesRegex(UserError, "is not posted"),
        ):
            move.with_user(self.sender).action_equisis_retry_mail()
        self.assertFalse(self.smtp.received)
        self.assertEqual(self.mails_of(move).state, "exception")

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_retry_never_sends_an_older_mail(self):
        """An invoice whose mail was refused is sent anew; this time its
        mail is not even made. “Retry e-mail” says so and sends nothing:
        not the older mail, with what it said then."""
        move = self.make_invoice(self.refused)
        self.smtp.refuse_recipient("refused@example.com")
        self.send(self.open_wizard(move))
        older = self.mails_of(move)
        self.assertEqual(older.state, "exception")
        self.smtp.reset()
        others = self.make_invoice(self.partner) | self.make_invoice(self.partner)
        self.send(self.open_wizard(move | others))
        self.assertEqual(older.state, "cancel", "superseded by the new send")
        move.button_draft()
        self._run()
        self.assertEqual(len(self.smtp.received), 2)
        self.assertEqual(move.equisis_mail_state, "failed")
        with (
            real_delivery(self.env),
            self.assertRaisesRegex(UserError, "never made"),
        ):
            move.with_user(self.sender).action_equisis_retry_mail()
        self.assertEqual(older.state, "cancel")
        self.assertEqual(len(self.smtp.received), 2)
        self.assertEqual(move.equisis_mail_state, "failed")
