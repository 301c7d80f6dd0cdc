# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_contract_entry_points_open_their_windows(self):
        """Run the contract's server actions as an integrator would."""
        partner = self.env["res.partner"].create(
            {"name": "Contract", "email": "contract@example.com"}
        )
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_line_ids": [
                    Command.create({"name": "x", "price_unit": 10, "tax_ids": []})
                ],
            }
        )
        move.action_post()
        send = self.env.ref("equisis_mail.account_move_action_send_email")
        result = send.with_context(
            active_model="account.move", active_ids=move.ids
        ).run()
        wizard = self.env[result["res_model"]].browse(result["res_id"])
        self.assertEqual(wizard._name, "equisis.mail.send")
        self.assertEqual(wizard.move_ids, move)
        self.assertEqual(wizard.line_ids.move_id, move)
        self.assertEqual(wizard.line_ids.email_to, "contract@example.com")
        mail_to = self.env.ref("equisis_mail.res_partner_action_mail_to")
        result = mail_to.with_context(
            active_model="res.partner", active_ids=partner.ids
        ).run()
        window = self.env[result["res_model"]].browse(result["res_id"])
        self.assertEqual(window._name, "equisis.mail.to")
        self.assertEqual(window.partner_ids, partner)
        self.assertTrue(window.mailto_url.startswith("mailto:"))
        self.assertIn("contract@example.com", window.mailto_url)

    def test_annexes_setting_is_the_companys(self):
        settings = self.env["res.config.settings"].create(
            {"send_annexes_by_mail": True}
        )
        settings.execute()
        self.assertTrue(self.env.company.send_annexes_by_mail)
        self.env["res.config.settings"].create(
            {"send_annexes_by_mail": False}
        ).execute()
        self.assertFalse(self.env.company.send_annexes_by_mail)

    def test_ready_made_letters(self):
        Letter = self.env["equisis.letter"]
        accompaniments = Letter.search([("letter_type", "=", "accompaniment")])
        pairs = {(letter.target, letter.lang_id.code) for letter in accompaniments}
        for target in ("out_invoice", "out_refund"):
            for lang in ("en_US", "fr_FR", "nl_NL"):
                self.assertIn((target, lang), pairs)
        print_forms = Letter.search([("letter_type", "=", "print_form")])
        self.assertGreaterEqual(
            len(print_forms.filtered(lambda l: l.target == "out_invoice")), 2
        )
        codes = Letter.search([]).mapped("code")
        self.assertEqual(len(codes), len(set(codes)))
        # Each print form attaches a PDF report of its target's documents.
        for letter in print_forms:
            self.assertEqual(letter.report_id.model, letter.render_model)
            self.assertEqual(letter.report_id.report_type, "qweb-pdf")
