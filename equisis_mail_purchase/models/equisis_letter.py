# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class EquisisLetter(models.Model):
    _inherit = "equisis.letter"

    target = fields.Selection(
        selection_add=[("purchase_order", "Request for Quotation / Purchase Order")],
        ondelete={"purchase_order": "cascade"},
    )

    @api.model
    def _target_models(self):
        return {**super()._target_models(), "purchase_order": "purchase.order"}
