# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

RFQ_STATES = ("draft", "sent", "to approve")


class PurchaseOrder(models.Model):
    """The purchase layer of the sending service: the host's RFQ or order
    report, and the RFQ moved to "RFQ Sent" once its mail left, as the
    host's own "Send by e-mail" moves it."""

    _name = "purchase.order"
    _inherit = ["purchase.order", "equisis.mail.document"]

    def _equisis_letter_target(self):
        return "purchase_order"

    def _equisis_default_report(self):
        """The report the host's own mail carries: the RFQ's while it is
        one, the order's once confirmed."""
        if self.state in RFQ_STATES:
            return self._equisis_report_by_xmlid("purchase.report_purchase_quotation")
        return self._equisis_report_by_xmlid("purchase.action_report_purchase_order")

    def _equisis_mark_sent(self, mails):
        # The host's own step for a mailed RFQ (``print_quotation`` and the
        # composer's ``mark_rfq_as_sent``): a draft becomes "RFQ Sent".
        self.filtered(lambda order: order.state == "draft").write({"state": "sent"})
        return super()._equisis_mark_sent(mails)
