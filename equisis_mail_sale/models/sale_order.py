# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class SaleOrder(models.Model):
    """The sales layer of the sending service: the host's quotation report,
    and the quotation moved to "Quotation Sent" once its mail left, as the
    host's own "Send by e-mail" moves it."""

    _name = "sale.order"
    _inherit = ["sale.order", "equisis.mail.document"]

    def _equisis_letter_target(self):
        return "sale_order"

    def _equisis_default_report(self):
        return self._equisis_report_by_xmlid("sale.action_report_saleorder")

    def _equisis_mark_sent(self, mails):
        self.filtered(lambda order: order.state == "draft").action_quotation_sent()
        return super()._equisis_mark_sent(mails)
