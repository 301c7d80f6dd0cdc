# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class EquisisLetter(models.Model):
    _inherit = "equisis.letter"

    target = fields.Selection(
        selection_add=[("sale_order", "Quotation / Sales Order")],
        ondelete={"sale_order": "cascade"},
    )

    @api.model
    def _target_models(self):
        return {**super()._target_models(), "sale_order": "sale.order"}
