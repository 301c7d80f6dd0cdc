# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .ir_mail_server import ENVELOPE_BCC_HEADER


class MailMail(models.Model):
    _inherit = "mail.mail"

    equisis_move_id = fields.Many2one(
        comodel_name="account.move",
        string="Sent Document",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The document this mail carries: it is marked sent once the "
        "SMTP server accepts the mail.",
    )
    equisis_bcc = fields.Char(
        string="Envelope BCC",
        readonly=True,
        help="Addresses that receive a blind copy through the SMTP envelope "
        "only (BCC confirmation). They appear in no header.",
    )

    def _prepare_outgoing_list(self, mail_server=False, doc_to_followers=None):
        email_list = super()._prepare_outgoing_list(
            mail_server=mail_server, doc_to_followers=doc_to_followers
        )
        if self.equisis_bcc and email_list:
            # One copy per mail, not one per recipient: only the first message
            # of the list carries the envelope copy.
            first = email_list[0]
            first["headers"] = {
                **(first.get("headers") or {}),
                ENVELOPE_BCC_HEADER: self.equisis_bcc,
            }
        return email_list

    def _postprocess_sent_message(
        self, success_pids, success_emails, failure_reason=False, failure_type=None
    ):
        """A document is sent only once the SMTP server accepted its mail."""
        sent = self.filtered(lambda mail: mail.state == "sent" and mail.equisis_move_id)
        if sent:
            sent.equisis_move_id.sudo()._equisis_mark_sent(sent)
        failed = self.filtered(
            lambda mail: mail.state == "exception" and mail.equisis_move_id
        )
        if failed:
            failed.equisis_move_id.sudo()._equisis_mark_failed(failed)
        return super()._postprocess_sent_message(
            success_pids,
            success_emails,
            failure_reason=failure_reason,
            failure_type=failure_type,
        )
