# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.tools import html2plaintext

from ..utils.bounce import guess_from_text, read_report


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        """A delivery report that Odoo's gateway matched to a mail of this
        addon (by the Message-Id it quotes) changes that mail's document:
        accepted by the sender's server is not delivered. Bounces of any
        other mail (a follower's notification on the same document) are the
        host's only."""
        result = super()._routing_handle_bounce(email_message, message_dict)
        bounced_message = message_dict.get("bounced_message")
        if not bounced_message:
            return result
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("mail_message_id", "in", bounced_message.ids),
                    ("equisis_model", "!=", False),
                ]
            )
        )
        if mails:
            recipients = read_report(email_message) or [
                guess_from_text(
                    message_dict.get("bounced_email"),
                    html2plaintext(message_dict.get("body") or ""),
                )
            ]
            mails._equisis_receive_bounce(recipients)
        return result
