# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    send_annexes_by_mail = fields.Boolean(
        string="Send Annexes by E-mail",
        help="When sending documents by e-mail, propose the files attached to "
        "each document as annexes of its mail.",
    )
