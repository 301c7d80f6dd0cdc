# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    send_annexes_by_mail = fields.Boolean(
        related="company_id.send_annexes_by_mail",
        readonly=False,
    )
    equisis_personal_server_limit = fields.Integer(
        string="Personal Server Limit (mails per minute)",
        config_parameter="mail.server.personal.limit.minutes",
        help="How many e-mails a user's own SMTP server may send per minute. "
        "Mails above the limit wait for the next minute, so that the "
        "provider does not take them for spam. 0 means 30.",
    )
