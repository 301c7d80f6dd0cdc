# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The e-mail status is stored on the document, and filled on upgrade."""

from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .common import EquisisSendCase


@tagged("post_install", "-at_install")
class TestMailHistory(EquisisSendCase):
    def _old_mail(self, move, state, **values):
        """A mail as the previous versions kept it: the status lived on it."""
        return (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "equisis_model": "account.move",
                    "equisis_res_id": move.id,
                    "state": state,
                    "email_to": "client@example.com",
                    "auto_delete": False,
                    "body_html": "<p>Invoice</p>",
                    **values,
                }
            )
        )

    def test_upgrade_fills_the_status_from_the_mails_of_before(self):
        partner = self.make_partner("Client", "client@example.com")
        failed, sent_after_failure, partial, never, queued = (
            self.make_invoice(partner) for _index in range(5)
        )
        self._old_mail(failed, "sent")
        self._old_mail(failed, "exception", failure_reason="550 5.1.1 No such user")
        self._old_mail(sent_after_failure, "exception", failure_reason="old")
        self._old_mail(sent_after_failure, "sent")
        self._old_mail(partial, "sent", equisis_refused="x@example.com: 550 refused")
        self.env["equisis.mail.queue"].sudo().create(
            {"res_model": "account.move", "res_id": queued.id, "values": {}}
        )
        moves = failed | sent_after_failure | partial | never | queued
        # The previous versions had no column: nothing stored yet.
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET equisis_mail_state = NULL, "
                "equisis_mail_failure = NULL, equisis_mail_sent_date = NULL "
                "WHERE id IN %s",
                tuple(moves.ids),
            )
        )
        moves.invalidate_recordset()
        self.assertFalse(any(moves.mapped("equisis_mail_state")))
        # Small batches, so that the documents span several of them.
        self.env["account.move"]._equisis_fill_mail_state(batch=2)
        self.assertEqual(failed.equisis_mail_state, "failed")
        self.assertEqual(failed.equisis_mail_failure, "550 5.1.1 No such user")
        self.assertTrue(failed.equisis_mail_sent_date)
        self.assertEqual(sent_after_failure.equisis_mail_state, "sent")
        self.assertFalse(sent_after_failure.equisis_mail_failure)
        self.assertEqual(partial.equisis_mail_state, "partial")
        self.assertIn("550 refused", partial.equisis_mail_failure)
        self.assertFalse(never.equisis_mail_state)
        self.assertEqual(queued.equisis_mail_state, "queued")
        # The list's "E-mail failed" filter reads the stored field.
        Move = self.env["account.move"].with_user(self.sender)
        self.assertEqual(
            Move.search(
                [
                    ("id", "in", moves.ids),
                    ("equisis_mail_state", "in", ["failed", "partial"]),
                ]
            ),
            failed | partial,
        )

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_status_is_written_where_the_outcome_is_recorded(self):
        partner = self.make_partner("Client", "client@example.com")
        move = self.make_invoice(partner)
        self.smtp.refuse_recipient("client@example.com", "550 5.2.2 Mailbox full")
        self.send(self.open_wizard(move))
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT equisis_mail_state, equisis_mail_failure "
                "FROM account_move WHERE id = %s",
                move.id,
            )
        )
        state, failure = self.env.cr.fetchone()
        self.assertEqual(state, "failed")
        self.assertIn("Mailbox full", failure)
        self.smtp.reset()
        self.send(self.open_wizard(move))
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT equisis_mail_state, equisis_mail_sent_to "
                "FROM account_move WHERE id = %s",
                move.id,
            )
        )
        self.assertEqual(self.env.cr.fetchone(), ("sent", "client@example.com"))
