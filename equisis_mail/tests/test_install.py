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

    def _posted_move(self, move_type, partner):
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_line_ids": [
                    Command.create({"name": "x", "price_unit": 1234.56, "tax_ids": []})
                ],
            }
        )
        move.action_post()
        return move

    def test_annexes_setting_is_the_companys(self):
        """The box of the Settings page is the current company's: it decides
        whether the send window attaches a document's files, and leaves the
        other companies' choice alone."""
        other = self.env["res.company"].create(
            {"name": "Other Company", "send_annexes_by_mail": True}
        )
        partner = self.env["res.partner"].create(
            {"name": "Annexes", "email": "annexes@example.com"}
        )
        move = self._posted_move("out_invoice", partner)
        annex = self.env["ir.attachment"].create(
            {
                "name": "terms.txt",
                "raw": b"General terms",
                "res_model": "account.move",
                "res_id": move.id,
                "mimetype": "text/plain",
            }
        )
        send = self.env.ref("equisis_mail.account_move_action_send_email")
        for ticked in (True, False):
            self.env["res.config.settings"].create(
                {"send_annexes_by_mail": ticked}
            ).execute()
            result = send.with_context(
                active_model="account.move", active_ids=move.ids
            ).run()
            line = self.env[result["res_model"]].browse(result["res_id"]).line_ids
            self.assertEqual(line.available_annex_ids, annex)
            self.assertEqual(line.attachment_ids, annex if ticked else annex.browse())
        self.assertTrue(other.send_annexes_by_mail)

    def test_ready_made_letters(self):
        """Each ready-made accompaniment writes the mail of a document of its
        target in its own language: the document's number in the subject,
        the amount in the body the way the language writes it."""
        for code in ("fr_FR", "nl_NL"):
            self.env["res.lang"]._activate_lang(code)
        partner = self.env["res.partner"].create(
            {"name": "Ready", "email": "ready@example.com"}
        )
        subjects = {
            "out_invoice": {"en_US": "Invoice", "fr_FR": "Facture", "nl_NL": "Factuur"},
            "out_refund": {
                "en_US": "Credit note",
                "fr_FR": "Note de crédit",
                "nl_NL": "Creditnota",
            },
        }
        amounts = {
            "en_US": r"1,234\.56",
            "fr_FR": r"1[\s\u00a0\u202f]234,56",
            "nl_NL": r"1\.234,56",
        }
        Letter = self.env["equisis.letter"]
        for target, words in subjects.items():
            move = self._posted_move(target, partner)
            for lang, word in words.items():
                letter = Letter.search(
                    [
                        ("letter_type", "=", "accompaniment"),
                        ("target", "=", target),
                        ("lang_id.code", "=", lang),
                    ]
                )
                self.assertEqual(len(letter), 1, f"{target} in {lang}")
                rendered = letter._render_for_documents(move)[move.id]
                self.assertTrue(rendered["subject"].startswith(f"{word} {move.name}"))
                self.assertRegex(rendered["body"], amounts[lang])
        # Invoices print with or without their payments.
        forms = Letter.search(
            [("letter_type", "=", "print_form"), ("target", "=", "out_invoice")]
        )
        self.assertEqual(
            set(forms.report_id.mapped("report_name")),
            {"account.report_invoice_with_payments", "account.report_invoice"},
        )
