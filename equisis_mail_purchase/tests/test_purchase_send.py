# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.equisis_mail.tests.common import EquisisSendCase


@tagged("post_install", "-at_install")
class TestPurchaseSend(EquisisSendCase):
    """Requests for quotation and purchase orders through the same window."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sender.group_ids = [
            Command.link(cls.env.ref("purchase.group_purchase_user").id)
        ]
        cls.fr_vendor = cls.make_partner(
            "Fournitures Martin", "martin@example.com", "fr_FR"
        )
        cls.nl_vendor = cls.make_partner(
            "Groothandel Peeters", "peeters@example.com", "nl_NL"
        )
        cls.no_address = cls.make_partner("Silent Supplies", False)

    def make_order(self, partner):
        return (
            self.env["purchase.order"]
            .with_user(self.sender)
            .create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_qty": 3,
                                "price_unit": 40.0,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        )

    def open_purchase_window(self, orders):
        action = self.env.ref("equisis_mail_purchase.purchase_order_action_send_email")
        result = (
            action.with_user(self.sender)
            .with_context(active_model="purchase.order", active_ids=orders.ids)
            .run()
        )
        self.assertEqual(result["res_model"], "equisis.mail.send")
        return (
            self.env["equisis.mail.send"]
            .with_user(self.sender)
            .browse(result["res_id"])
        )

    def test_send_rfqs(self):
        orders = (
            self.make_order(self.fr_vendor)
            | self.make_order(self.nl_vendor)
            | self.make_order(self.no_address)
        )
        wizard = self.open_purchase_window(orders)
        by_order = {line.res_id: line for line in wizard.line_ids}
        self.assertEqual(by_order[orders[0].id].letter_id.code, "PO-FR")
        self.assertEqual(by_order[orders[1].id].letter_id.code, "PO-NL")
        self.assertIn("No recipient", by_order[orders[2].id].problem)
        self.assertEqual(
            by_order[orders[0].id].report_id,
            self.env.ref("purchase.report_purchase_quotation"),
        )
        self.send(wizard)
        received = {mail.rcpt_tos[0]: mail for mail in self.smtp.received}
        self.assertEqual(
            sorted(received), ["martin@example.com", "peeters@example.com"]
        )
        french = received["martin@example.com"]
        self.assertEqual(french.login, "sender-login")
        self.assertTrue(str(french.message["Subject"]).startswith("Demande de prix "))
        files = dict(french.attachments())
        self.assertTrue(
            files[f"Request for Quotation - {orders[0].name}.pdf"].startswith(b"%PDF")
        )
        self.assertEqual(orders.mapped("state"), ["sent", "sent", "draft"])

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_rfq_stays_draft_when_refused(self):
        order = self.make_order(self.fr_vendor)
        self.smtp.refuse_recipient("martin@example.com")
        self.send(self.open_purchase_window(order))
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.equisis_mail_state, "failed")

    def test_confirmed_order_gets_the_order_report(self):
        rfq = self.make_order(self.fr_vendor)
        order = self.make_order(self.nl_vendor)
        order.button_confirm()
        wizard = self.open_purchase_window(rfq | order)
        self.assertFalse(wizard.print_form_id, "an RFQ and an order differ")
        by_order = {line.res_id: line for line in wizard.line_ids}
        self.assertEqual(
            by_order[order.id].report_id,
            self.env.ref("purchase.action_report_purchase_order"),
        )
        self.assertEqual(
            by_order[rfq.id].report_id,
            self.env.ref("purchase.report_purchase_quotation"),
        )
        self.send(wizard)
        self.assertEqual(order.state, "purchase")
        self.assertEqual(rfq.state, "sent")
