# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.equisis_mail.tests.common import (
    EquisisSendCase,
    cron_progress_without_commit,
    real_delivery,
    user_smtp_on_loopback,
)


@tagged("post_install", "-at_install")
class TestSaleSend(EquisisSendCase):
    """Quotations and sales orders through the same window and service."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sender.group_ids = [
            Command.link(cls.env.ref("sales_team.group_sale_salesman").id)
        ]
        cls.fr_partner = cls.make_partner(
            "Atelier Dupont", "dupont@example.com", "fr_FR"
        )
        cls.en_partner = cls.make_partner("Acme Ltd", "acme@example.com")
        cls.no_address = cls.make_partner("Nobody Ltd", False)

    def make_order(self, partner, user=None):
        return (
            self.env["sale.order"]
            .with_user(user or self.sender)
            .create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": 2,
                                "price_unit": 150.0,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
        )

    def open_sale_window(self, orders, user=None):
        user = user or self.sender
        action = self.env.ref("equisis_mail_sale.sale_order_action_send_email")
        result = (
            action.with_user(user)
            .with_context(active_model="sale.order", active_ids=orders.ids)
            .run()
        )
        self.assertEqual(result["res_model"], "equisis.mail.send")
        return self.env["equisis.mail.send"].with_user(user).browse(result["res_id"])

    def test_window_lines_name_their_documents(self):
        orders = (
            self.make_order(self.fr_partner)
            | self.make_order(self.en_partner)
            | self.make_order(self.no_address)
        )
        wizard = self.open_sale_window(orders)
        lines = wizard.line_ids
        self.assertEqual(lines.mapped("res_model"), ["sale.order"] * 3)
        self.assertEqual(lines.mapped("res_id"), orders.ids)
        self.assertFalse(lines.move_id)
        by_order = {line.res_id: line for line in lines}
        self.assertEqual(by_order[orders[0].id].letter_id.code, "SO-FR")
        self.assertEqual(by_order[orders[1].id].letter_id.code, "SO-EN")
        self.assertTrue(by_order[orders[0].id].subject.startswith("Devis "))
        self.assertFalse(by_order[orders[0].id].problem)
        self.assertIn("No recipient", by_order[orders[2].id].problem)
        self.assertEqual(
            by_order[orders[0].id].report_id,
            self.env.ref("sale.action_report_saleorder"),
        )
        self.assertEqual(
            by_order[orders[0].id].pdf_name, f"Quotation - {orders[0].name}.pdf"
        )

    def test_send_quotations_through_own_server(self):
        orders = (
            self.make_order(self.fr_partner)
            | self.make_order(self.en_partner)
            | self.make_order(self.no_address)
        )
        wizard = self.open_sale_window(orders)
        wizard.bcc_confirmation = True
        self.send(wizard)
        received = {mail.rcpt_tos[0]: mail for mail in self.smtp.received}
        self.assertEqual(sorted(received), ["acme@example.com", "dupont@example.com"])
        self.assertFalse(self.default_smtp.received)
        french = received["dupont@example.com"]
        self.assertEqual(french.login, "sender-login")
        self.assertEqual(french.mail_from, "sophie@example.com")
        self.assertIn("sophie@example.com", french.rcpt_tos)
        self.assertNotIn("sophie@example.com", french.recipient_headers())
        self.assertTrue(str(french.message["Subject"]).startswith("Devis "))
        self.assertIn("Veuillez trouver en annexe notre devis", french.raw.decode())
        files = dict(french.attachments())
        pdf = files[f"Quotation - {orders[0].name}.pdf"]
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertEqual(orders.mapped("state"), ["sent", "sent", "draft"])
        self.assertTrue(
            orders[0].message_ids.filtered(
                lambda m: "E-mail to dupont@example.com" in m.body
            )
        )
        self.assertEqual(orders[0].equisis_mail_state, "sent")
        # The red line stays in the window, with its reason.
        self.assertEqual(wizard.line_ids.res_id, orders[2].id)
        self.assertEqual(wizard.result_state, "sent")

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_state_moves_only_once_the_mail_was_accepted(self):
        order = self.make_order(self.en_partner)
        self.smtp.refuse_recipient("acme@example.com")
        wizard = self.open_sale_window(order)
        self.send(wizard)
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.equisis_mail_state, "failed")
        self.assertEqual(wizard.result_state, "failed")
        self.assertIn(order.name, wizard.result_failures)
        # Fixed: sent again, and only then "Quotation Sent".
        self.smtp.reset()
        self.env["ir.config_parameter"].set_param(
            "equisis_mail.background_threshold", 0
        )
        self.open_sale_window(order).action_send()
        self.assertEqual(order.state, "draft", "queued is not sent")
        self.assertEqual(order.equisis_mail_state, "queued")
        with cron_progress_without_commit(self.env), real_delivery(self.env):
            self.env["equisis.mail.service"].with_context(
                force_report_rendering=True
            )._cron_send()
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(order.state, "sent")

    def test_confirmed_order_keeps_its_state(self):
        order = self.make_order(self.en_partner)
        order.action_confirm()
        wizard = self.open_sale_window(order)
        self.assertTrue(wizard.line_ids.subject.startswith("Order "))
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(order.state, "sale")
        self.assertIn(
            f"Order - {order.name}.pdf", dict(self.smtp.received[0].attachments())
        )

    def test_cancelled_order_is_red(self):
        order = self.make_order(self.en_partner)
        order.action_cancel()
        wizard = self.open_sale_window(order)
        self.assertIn("cancelled", wizard.line_ids.problem)

    def test_other_user_order_needs_rights(self):
        """A salesman who only sees their own orders cannot mail a colleague's."""
        colleague = self.env["res.users"].create(
            {
                "name": "Own Orders Only",
                "login": "own_orders",
                "email": "own@example.com",
                "group_ids": [
                    Command.link(self.env.ref("sales_team.group_sale_salesman").id)
                ],
            }
        )
        order = self.make_order(self.en_partner)
        order.user_id = self.sender
        with self.assertRaises(AccessError):
            self.open_sale_window(order, user=colleague)

    def _own_orders_salesman(self):
        """A salesman who sees his own documents only."""
        return self.env["res.users"].create(
            {
                "name": "Own Documents Only",
                "login": "own_documents",
                "email": "own.documents@example.com",
                "group_ids": [
                    Command.link(self.env.ref("sales_team.group_sale_salesman").id)
                ],
            }
        )

    def test_salesman_cannot_line_up_a_colleagues_quotation(self):
        """A line of the send window tells nothing of a quotation its user
        may not read, not even that it was mailed: it cannot be made."""
        salesman = self._own_orders_salesman()
        order = self.make_order(self.en_partner)
        self.send(self.open_sale_window(order))
        self.assertEqual(order.state, "sent")
        self.assertFalse(order.with_user(salesman).has_access("read"))
        wizard = (
            self.env["equisis.mail.send"]
            .with_user(salesman)
            .create({"res_model": "sale.order", "res_ids": []})
        )
        Line = self.env["equisis.mail.send.line"].with_user(salesman)
        with self.assertRaises(AccessError):
            line = Line.create(
                {"wizard_id": wizard.id, "res_model": "sale.order", "res_id": order.id}
            )
            line.read(["sent_note"])

    def test_line_of_a_quotation_no_longer_readable_says_nothing(self):
        """Reassigned to a colleague after the window opened, the quotation's
        line no longer says when it was mailed."""
        order = self.make_order(self.en_partner)
        self.send(self.open_sale_window(order))
        line = self.open_sale_window(order).line_ids
        self.assertIn("Sent on", line.sent_note)
        order.sudo().user_id = self._own_orders_salesman()
        self.assertFalse(order.with_user(self.sender).has_access("read"))
        line.invalidate_recordset()
        self.assertFalse(line.read(["sent_note"])[0]["sent_note"])

    def test_confirmed_order_mailed_meanwhile_is_not_mailed_twice(self):
        """Mailing an order changes nothing on it: the window knows it was
        mailed from the addon's own mails."""
        order = self.make_order(self.en_partner)
        order.action_confirm()
        first = self.open_sale_window(order)
        second = self.open_sale_window(order)
        self.send(first)
        self.assertIn("was sent from elsewhere", second.line_ids.problem)
        with self.assertRaises(UserError):
            self.send(second)
        self.assertEqual(len(self.smtp.received), 1)
        # Opened afterwards, sending it again is a choice.
        third = self.open_sale_window(order)
        self.assertFalse(third.line_ids.problem)
        self.assertIn("Sent on", third.line_ids.sent_note or "")

    def test_sales_managers_change_sales_letters_only(self):
        manager = self.env["res.users"].create(
            {
                "name": "Sales Manager",
                "login": "sales_manager",
                "email": "sm@example.com",
                "group_ids": [
                    Command.link(self.env.ref("sales_team.group_sale_manager").id)
                ],
            }
        )
        Letter = self.env["equisis.letter"].with_user(manager)
        sale_form = self.env.ref("equisis_mail_sale.letter_print_sale_order")
        sale_form.with_user(manager).sequence = 3
        invoice_form = self.env.ref("equisis_mail.letter_print_invoice")
        self.assertEqual(invoice_form.with_user(manager).code, "PF-INV")
        with self.assertRaises(AccessError):
            invoice_form.with_user(manager).report_id = self.env.ref(
                "account.account_invoices_without_payment"
            )
        with self.assertRaises(AccessError):
            Letter.create(
                {
                    "code": "HIJACK",
                    "name": "Invoice",
                    "letter_type": "accompaniment",
                    "target": "out_invoice",
                    "body_html": "<p>Pay to BE00 0000 0000 0000.</p>",
                }
            )
        own = Letter.create(
            {
                "code": "HIJACK",
                "name": "Quotation",
                "letter_type": "accompaniment",
                "target": "sale_order",
                "body_html": "<p>Pay to BE00 0000 0000 0000.</p>",
            }
        )
        with self.assertRaises(AccessError):
            own.target = "out_invoice"

    def test_letter_targets_sales_orders(self):
        letter = self.env.ref("equisis_mail_sale.letter_sale_order_en")
        self.assertEqual(letter.render_model, "sale.order")
        self.assertEqual(
            self.env.ref("equisis_mail_sale.letter_print_sale_order").report_id.model,
            "sale.order",
        )


@tagged("post_install", "-at_install")
class TestSaleSendTour(HttpCase):
    def test_sale_batch_tour(self):
        admin = self.env.ref("base.user_admin")
        admin.email = "admin@example.com"
        Partner = self.env["res.partner"]
        product = self.env["product.product"].create({"name": "Tour product"})
        orders = self.env["sale.order"]
        for name, email in (
            ("Tour Customer A", "a@example.com"),
            ("Tour Customer B", "b@example.com"),
            ("Tour Customer C", False),
        ):
            orders |= self.env["sale.order"].create(
                {
                    "partner_id": Partner.create({"name": name, "email": email}).id,
                    "user_id": admin.id,
                    "order_line": [
                        Command.create(
                            {"product_id": product.id, "price_unit": 100, "tax_ids": []}
                        )
                    ],
                }
            )
        with user_smtp_on_loopback(self, admin) as smtp:
            self.start_tour(
                "/odoo/action-sale.action_quotations_with_onboarding",
                "equisis_mail_sale_tour",
                login="admin",
            )
        self.assertEqual(len(smtp.received), 3)
        self.assertEqual(orders.mapped("state"), ["sent", "sent", "sent"])
        self.assertTrue(
            orders[2].message_ids.filtered(lambda m: "fixed@example.com" in m.body)
        )
