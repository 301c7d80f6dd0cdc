# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Issue 24, points 4 and 6, in headless Chromium: Retry, and the summary
of a background batch."""

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import cron_progress_without_commit, user_smtp_on_loopback


class EquisisTourCase(HttpCase):
    """Invoices and the send window, as a user would reach them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.admin.write({"email": "admin@example.com", "bcc_confirmation": False})
        cls.product = cls.env["product.product"].create({"name": "Tour service"})

    @classmethod
    def make_invoice(cls, name, email):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.env["res.partner"]
                .create({"name": name, "email": email})
                .id,
                "invoice_date": "2026-11-02",
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": cls.product.id, "price_unit": 100, "tax_ids": []}
                    )
                ],
            }
        )
        move.action_post()
        return move

    def send_as(self, user, moves, resend=False):
        """Send from the window as this user, with the mails really leaving
        (the caller is inside ``real_delivery``)."""
        action = self.env.ref("equisis_mail.account_move_action_send_email")
        result = (
            action.with_user(user)
            .with_context(active_model="account.move", active_ids=moves.ids)
            .run()
        )
        wizard = self.env["equisis.mail.send"].with_user(user).browse(result["res_id"])
        wizard.resend_confirmed = resend
        wizard.action_send()
        return wizard

    def odoobot_messages(self, user):
        """What OdooBot wrote in this user's chat (its welcome included)."""
        odoobot = self.env.ref("base.partner_root")
        chats = self.env["discuss.channel"].search(
            [
                ("channel_type", "=", "chat"),
                ("channel_member_ids.partner_id", "=", user.partner_id.id),
            ]
        )
        return self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "in", chats.ids),
                ("author_id", "=", odoobot.id),
            ]
        )


@tagged("post_install", "-at_install")
class TestRetryTour(EquisisTourCase):
    def test_retry_tour(self):
        """Issue 24, point 4: an invoice another user mailed, then mailed
        again by the administrator through an unreachable server, is Failed
        in the list; its chatter says so; Retry, once the server is fixed,
        sends it once through the administrator's server."""
        other = self.env["res.users"].create(
            {
                "name": "Otto Other",
                "login": "otto",
                "email": "otto@example.com",
                "group_ids": [
                    Command.link(self.env.ref("account.group_account_invoice").id)
                ],
            }
        )
        failing = self.make_invoice("Retry Failing", "failing@example.com")
        fine = self.make_invoice("Retry Fine", "fine@example.com")
        with (
            user_smtp_on_loopback(self, other) as other_smtp,
            user_smtp_on_loopback(self, self.admin) as smtp,
        ):
            self.send_as(other, failing | fine)
            self.assertEqual(len(other_smtp.received), 2)
            self.assertEqual(failing.equisis_mail_state, "sent")
            # The administrator's server is unreachable for the second send.
            self.admin.smtp_port = 1
            with mute_logger(
                "odoo.addons.base.models.ir_mail_server", "odoo.addons.mail"
            ):
                self.send_as(self.admin, failing, resend=True)
            self.assertEqual(failing.equisis_mail_state, "failed")
            self.assertEqual(fine.equisis_mail_state, "sent")
            # The cause is fixed before the tour clicks Retry.
            self.admin.smtp_port = smtp.port
            self.start_tour(
                "/odoo/action-account.action_move_out_invoice_type",
                "equisis_mail_retry_tour",
                login="admin",
            )
        self.assertEqual(len(smtp.received), 1, "one mail for the retry")
        self.assertEqual(smtp.received[0].rcpt_tos, ["failing@example.com"])
        self.assertEqual(len(other_smtp.received), 2, "nothing more by the other")
        self.assertEqual(failing.equisis_mail_state, "sent")
        self.assertEqual(failing.equisis_mail_sent_to, "failing@example.com")


@tagged("post_install", "-at_install")
class TestSummaryTour(EquisisTourCase):
    """Issue 24, point 6. The background threshold is lowered to 2 through
    its config parameter (``equisis_mail.background_threshold``) so that
    three invoices make a background batch; the administrator takes
    notifications by e-mail, and must find the summary inside Odoo anyway."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("equisis_mail.background_threshold", 2)
        cls.admin.notification_type = "email"
        cls.moves = cls.make_invoice("Summary A", "a@example.com") | cls.make_invoice(
            "Summary B", "b@example.com"
        )
        cls.refused = cls.make_invoice("Summary Refused", "refused@example.com")

    def run_cron(self):
        """Run the scheduled action's method as the cron would, inside the
        test transaction (the caller is inside ``real_delivery``)."""
        with (
            cron_progress_without_commit(self.env),
            mute_logger("odoo.addons.mail.models.mail_mail"),
        ):
            self.env["equisis.mail.service"]._cron_send()

    def summary(self, before):
        """OdooBot's messages to the administrator since ``before``."""
        return self.odoobot_messages(self.admin) - before

    def test_summary_tour(self):
        """One summary, once the whole batch is done, with counts that add
        up and a link that opens the invoice that was not sent."""
        with user_smtp_on_loopback(self, self.admin) as smtp:
            smtp.refuse_recipient("refused@example.com")
            self.start_tour(
                "/odoo/action-account.action_move_out_invoice_type",
                "equisis_mail_summary_send_tour",
                login="admin",
            )
            self.assertFalse(smtp.received, "nothing leaves before the run")
            documents = self.moves | self.refused
            self.assertEqual(set(documents.mapped("equisis_mail_state")), {"queued"})
            before = self.odoobot_messages(self.admin)
            self.run_cron()
            self.assertEqual(len(smtp.received), 2)
            summary = self.summary(before)
            self.assertEqual(len(summary), 1, summary.mapped("body"))
            self.assertIn(f"/odoo/account.move/{self.refused.id}", summary.body)
            self.start_tour("/odoo/discuss", "equisis_mail_summary_tour", login="admin")
            # A later run tells nothing more.
            self.run_cron()
        told = self.summary(before).filtered(
            lambda message: "/odoo/account.move/" in message.body
        )
        self.assertEqual(told, summary)
        self.assertEqual(self.refused.equisis_mail_state, "failed")
        self.assertEqual(set(self.moves.mapped("equisis_mail_state")), {"sent"})

    def test_summary_tour_in_french(self):
        """The summary speaks the sender's language: French (Belgium)."""
        self.env["res.lang"]._activate_lang("fr_BE")
        self.env["ir.module.module"]._load_module_terms(
            ["equisis_mail"], ["fr_BE"], overwrite=True
        )
        self.admin.lang = "fr_BE"
        with user_smtp_on_loopback(self, self.admin) as smtp:
            smtp.refuse_recipient("refused@example.com")
            self.send_as(self.admin, self.moves | self.refused)
            before = self.odoobot_messages(self.admin)
            self.run_cron()
            self.assertEqual(len(smtp.received), 2)
            self.assertEqual(len(self.summary(before)), 1)
            self.start_tour(
                "/odoo/discuss", "equisis_mail_summary_fr_tour", login="admin"
            )
