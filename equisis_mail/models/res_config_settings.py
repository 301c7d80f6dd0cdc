# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

PERSONAL_LIMIT_PARAM = "mail.server.personal.limit.minutes"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    send_annexes_by_mail = fields.Boolean(
        related="company_id.send_annexes_by_mail",
        readonly=False,
    )
    # Not a ``config_parameter`` field: that would show the stored 0 or
    # nothing, while the host applies its default (30) in both cases.
    equisis_personal_server_limit = fields.Integer(
        string="Personal Server Limit (mails per minute)",
        help="How many e-mails a user's own SMTP server may send per minute. "
        "Mails above the limit wait for the next minute, so that the "
        "provider does not take them for spam. 0 means 30.",
    )

    @api.model
    def get_values(self):
        """Show the limit the host applies, its default included."""
        res = super().get_values()
        res["equisis_personal_server_limit"] = self.env[
            "ir.mail_server"
        ]._get_personal_mail_servers_limit()
        return res

    def set_values(self):
        """Store the limit only when it changed, so that a page saved with
        the default shown keeps following the host's default; 0 goes back
        to that default."""
        res = super().set_values()
        limit = self.equisis_personal_server_limit
        if limit != self.env["ir.mail_server"]._get_personal_mail_servers_limit():
            self.env["ir.config_parameter"].sudo().set_param(
                PERSONAL_LIMIT_PARAM, str(limit) if limit else False
            )
        return res
