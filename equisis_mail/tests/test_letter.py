# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from .common import EquisisSendCase


@tagged("post_install", "-at_install")
class TestLetters(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Letter = cls.env["equisis.letter"]

    @mute_logger("odoo.sql_db")
    def test_duplicate_code_refused(self):
        with (
            self.assertRaisesRegex(Exception, "already exists"),
            self.env.cr.savepoint(),
        ):
            self.Letter.create(
                {
                    "code": "INV-EN",
                    "name": "Copy",
                    "letter_type": "accompaniment",
                    "target": "out_invoice",
                    "body_html": "<p>x</p>",
                    "company_id": False,
                }
            )
        # The same code in another company is fine.
        other = self.env["res.company"].create({"name": "Other Co"})
        letter = self.Letter.create(
            {
                "code": "OWN",
                "name": "Own",
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "body_html": "<p>x</p>",
                "company_id": other.id,
            }
        )
        self.Letter.create(
            {
                "code": "OWN",
                "name": "Own",
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "body_html": "<p>x</p>",
                "company_id": self.env.company.id,
            }
        )
        # A user of the first company does not see the other's letter.
        self.assertNotIn(letter, self.Letter.with_user(self.sender).search([]))

    def test_constraints(self):
        with self.assertRaisesRegex(ValidationError, "needs a PDF report"):
            self.Letter.create(
                {"code": "PF-X", "name": "x", "letter_type": "print_form"}
            )
        with self.assertRaisesRegex(ValidationError, "needs a text"):
            self.Letter.create(
                {"code": "AC-X", "name": "x", "letter_type": "accompaniment"}
            )
        with self.assertRaisesRegex(ValidationError, "one line"):
            self.Letter.create(
                {
                    "code": "AC-Y",
                    "name": "Invoice\nBcc: evil@example.com",
                    "letter_type": "accompaniment",
                    "body_html": "<p>x</p>",
                }
            )

    def test_fallback_chain(self):
        letters = self.Letter.search(
            [("letter_type", "=", "accompaniment"), ("target", "=", "out_invoice")]
        )
        en = letters.filtered(lambda letter: letter.lang_id.code == "en_US")
        fr = letters.filtered(lambda letter: letter.lang_id.code == "fr_FR")
        nl = letters.filtered(lambda letter: letter.lang_id.code == "nl_NL")
        pick = self.Letter._pick_by_language
        self.assertEqual(pick(letters, "fr_FR", "en_US"), fr)
        self.assertEqual(pick(letters, "fr_BE", "en_US"), fr)
        self.assertEqual(pick(letters, "nl_BE", "en_US"), nl)
        self.assertEqual(pick(letters, "de_DE", "nl_BE"), nl)
        self.assertEqual(pick(letters, "de_DE", "de_DE"), en)
        self.assertFalse(pick(self.Letter, "fr_FR", "en_US"))
        self.assertEqual(pick(nl, "fr_FR", "fr_FR"), nl)

    def test_letter_of_each_customer(self):
        """The letter in the customer's language; else the company's; else
        English; else the first letter of the target in the list's order."""
        self.env.company.partner_id.lang = "nl_BE"
        french = self.make_partner("Client BE", "c1@example.be", lang="fr_BE")
        german = self.make_partner("Kunde", "c2@example.de", lang="de_DE")
        moves = self.make_invoice(french) | self.make_invoice(german)
        chosen = self.Letter._choose_accompaniments(moves)
        self.assertEqual(chosen[moves[0].id].lang_id.code, "fr_FR")
        self.assertEqual(chosen[moves[1].id].lang_id.code, "nl_NL")
        self.env.company.partner_id.lang = "de_DE"
        chosen = self.Letter._choose_accompaniments(moves)
        self.assertEqual(chosen[moves[1].id].lang_id.code, "en_US")
        # No letter in English either: the first one in the list's order.
        self.Letter.search(
            [
                ("letter_type", "=", "accompaniment"),
                ("target", "=", "out_invoice"),
                ("lang_id.code", "=", "en_US"),
            ]
        ).active = False
        letters = self.Letter.search(
            [("letter_type", "=", "accompaniment"), ("target", "=", "out_invoice")]
        )
        letters.filtered(lambda letter: letter.lang_id.code == "nl_NL").sequence = 1
        chosen = self.Letter._choose_accompaniments(moves[1])
        self.assertEqual(chosen[moves[1].id].lang_id.code, "nl_NL")
        letters.filtered(lambda letter: letter.lang_id.code == "fr_FR").sequence = 0
        chosen = self.Letter._choose_accompaniments(moves[1])
        self.assertEqual(chosen[moves[1].id].lang_id.code, "fr_FR")

    def test_french_partner_gets_french_letter_with_french_amount(self):
        partner = self.make_partner("Client BE", "client@example.be", lang="fr_BE")
        move = self.make_invoice(partner, amount=1234.56)
        letter = self.Letter._choose_accompaniments(move)[move.id]
        self.assertEqual(letter.lang_id.code, "fr_FR")
        rendered = letter.with_user(self.sender)._render_for_documents(move)[move.id]
        self.assertIn(move.name, rendered["subject"])
        self.assertTrue(rendered["subject"].startswith("Facture"))
        # French writes 1 234,56 (a narrow or plain space between thousands).
        self.assertRegex(rendered["body"], r"1[\s\u00a0\u202f]234,56")
        self.assertIn("Sophie Sender, Accounting", rendered["body"])

    def test_dutch_and_english_formatting(self):
        nl_partner = self.make_partner("Klant", "klant@example.nl", lang="nl_BE")
        move = self.make_invoice(nl_partner, amount=1234.56)
        letter = self.Letter._choose_accompaniments(move)[move.id]
        self.assertEqual(letter.lang_id.code, "nl_NL")
        body = letter._render_for_documents(move)[move.id]["body"]
        self.assertIn("1.234,56", body)
        en_partner = self.make_partner("Customer", "c@example.com", lang="en_US")
        move = self.make_invoice(en_partner, amount=1234.56)
        letter = self.Letter._choose_accompaniments(move)[move.id]
        self.assertIn("1,234.56", letter._render_for_documents(move)[move.id]["body"])

    def test_new_letter_wins_only_by_its_priority(self):
        partner = self.make_partner("Acme", "acme@example.com")
        move = self.make_invoice(partner)
        ready_made = self.env.ref("equisis_mail.letter_out_invoice_en")
        newer = self.Letter.create(
            {
                "code": "AAA-EN",
                "name": "Our invoice {{ object.name }}",
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "lang_id": self.env.ref("base.lang_en").id,
                "body_html": "<p>Here it is.</p>",
            }
        )
        self.assertEqual(newer.sequence, ready_made.sequence)
        self.assertEqual(self.Letter._choose_accompaniments(move)[move.id], ready_made)
        newer.sequence = ready_made.sequence - 1
        self.assertEqual(self.Letter._choose_accompaniments(move)[move.id], newer)

    @mute_logger("odoo.addons.mail.models.mail_render_mixin")
    def test_letter_that_does_not_render_is_refused_in_plain_words(self):
        move = self.make_invoice(self.make_partner("Acme", "acme@example.com"))
        letter = self.env.ref("equisis_mail.letter_out_invoice_en")
        # assertRaises rolls back what failed, so each case starts clean.
        with self.assertRaises(ValidationError) as caught:
            letter.body_html = '<p>Of <t t-out="object.nonexistent"/>.</p>'
        self.assertRegex(
            str(caught.exception),
            rf"INV-EN cannot be written for {move.name}: .*nonexistent.*placeholders",
        )
        with self.assertRaises(ValidationError) as caught:
            letter.name = "Invoice {{ object.nonexistent }}"
        self.assertIn("INV-EN cannot be written", str(caught.exception))
        letter.name = "Invoice {{ object.name }} of {{ object.invoice_date }}"

    def test_new_letter_is_called_new(self):
        self.assertFalse(self.Letter.new({}).display_name)

    def test_print_form_choice(self):
        partner = self.make_partner("C", "c@example.com")
        move = self.make_invoice(partner)
        forms = self.Letter._choose_print_forms(move)
        self.assertEqual(forms[move.id].code, "PF-INV")
        self.assertEqual(
            forms[move.id].report_id, self.env.ref("account.account_invoices")
        )
        # Without any print form the host's invoice report is used.
        self.env["equisis.letter"].search(
            [("letter_type", "=", "print_form")]
        ).active = False
        wizard = self.open_wizard(move)
        self.assertFalse(wizard.print_form_id)
        self.assertEqual(
            wizard.line_ids.report_id, self.env.ref("account.account_invoices")
        )

    def test_unsafe_placeholders_need_template_editor(self):
        manager = new_test_user(
            self.env,
            login="manager",
            groups="account.group_account_manager",
        )
        manager.group_ids -= self.env.ref("mail.group_mail_template_editor")
        self.assertFalse(manager.has_group("mail.group_mail_template_editor"))
        Letter = self.Letter.with_user(manager)
        # Plain text is fine ...
        Letter.create(
            {
                "code": "PLAIN",
                "name": "Plain subject",
                "letter_type": "accompaniment",
                "body_html": "<p>Hello</p>",
            }
        )
        # ... dynamic code is not.
        with self.assertRaises(AccessError):
            Letter.create(
                {
                    "code": "DYN",
                    "name": "{{ object.partner_id.sudo().bank_ids }}",
                    "letter_type": "accompaniment",
                    "body_html": "<p>Hello</p>",
                }
            )

    def test_body_is_sanitized(self):
        letter = self.Letter.create(
            {
                "code": "SAN",
                "name": "x",
                "letter_type": "accompaniment",
                "body_html": '<p>Hi</p><script>alert("x")</script>',
            }
        )
        self.assertNotIn("<script", letter.body_html)

    def test_preview(self):
        partner = self.make_partner("Client", "client@example.fr", lang="fr_FR")
        move = self.make_invoice(partner)
        letter = self.env.ref("equisis_mail.letter_out_invoice_fr")
        with self.env.cr.savepoint():
            letter.preview_move_id = move
            self.assertIn(move.name, letter.preview_subject)
            self.assertIn(move.name, letter.preview_body)
