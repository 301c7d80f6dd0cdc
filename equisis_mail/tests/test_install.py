# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_public_names_exist(self):
        """The names of the public contract are installed."""
        for model in (
            "equisis.letter",
            "equisis.mail.send",
            "equisis.mail.send.line",
            "equisis.mail.to",
        ):
            self.assertIn(model, self.env)
        users = self.env["res.users"]._fields
        for name in (
            "smtp_host",
            "smtp_port",
            "smtp_encryption",
            "smtp_user",
            "smtp_pass",
            "bcc_confirmation",
        ):
            self.assertIn(name, users)
        self.assertEqual(users["smtp_pass"].groups, "base.group_system")
        self.assertIn("send_annexes_by_mail", self.env["res.company"]._fields)
        self.assertIn("send_annexes_by_mail", self.env["res.config.settings"]._fields)
        send = self.env.ref("equisis_mail.account_move_action_send_email")
        self.assertEqual(send.binding_model_id.model, "account.move")
        mail_to = self.env.ref("equisis_mail.res_partner_action_mail_to")
        self.assertEqual(mail_to.binding_model_id.model, "res.partner")
        self.assertEqual(mail_to.binding_view_types, "list")

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
