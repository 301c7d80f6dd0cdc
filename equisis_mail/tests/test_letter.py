# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
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

    @mute_logger("odoo.addons.mail.models.mail_render_mixin")
    def test_a_letter_is_tried_on_a_document_of_its_authors_companies(self):
        """A letter that does not render is refused naming a document of
        its author's companies, never one of a company out of their reach."""
        own = self.make_invoice(self.make_partner("Acme", "acme@example.com"))
        elsewhere = self.env["res.company"].create({"name": "Elsewhere"})
        self.env["account.chart.template"].try_loading(
            "generic_coa", elsewhere, install_demo=False
        )
        hidden = (
            self.env["account.move"]
            .with_company(elsewhere)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": own.partner_id.id,
                    "invoice_line_ids": [
                        Command.create({"name": "Secret deal", "price_unit": 1})
                    ],
                }
            )
        )
        self.assertGreater(hidden.id, own.id)
        manager = new_test_user(
            self.env,
            login="letters_manager",
            groups="base.group_user,account.group_account_manager,"
            "mail.group_mail_template_editor",
        )
        letter = self.env.ref("equisis_mail.letter_out_invoice_en").with_user(manager)
        with self.assertRaises(ValidationError) as caught:
            letter.name = "Invoice {{ object.nonexistent }}"
        self.assertIn(f"cannot be written for {own.name}", str(caught.exception))

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

    def test_body_keeps_placeholders_and_layout_but_not_scripts(self):
        """The text is cleaned at the level of outgoing mails: scripts go,
        while the placeholders and inline styles a letter needs stay and
        render."""
        partner = self.make_partner("Acme", "acme@example.com")
        move = self.make_invoice(partner)
        letter = self.Letter.create(
            {
                "code": "SAN",
                "name": "x",
                "letter_type": "accompaniment",
                "body_html": '<p style="color: red">Dear '
                '<t t-out="object.partner_id.name"/></p>'
                '<script>alert("x")</script>',
            }
        )
        self.assertNotIn("<script", letter.body_html)
        self.assertIn('t-out="object.partner_id.name"', letter.body_html)
        body = letter._render_for_documents(move, parts=("body",))[move.id]["body"]
        self.assertIn("Dear Acme", body)
        self.assertIn("color: red", body)
        self.assertNotIn("alert", body)

    def test_preview(self):
        partner = self.make_partner("Client", "client@example.fr", lang="fr_FR")
        move = self.make_invoice(partner)
        letter = self.env.ref("equisis_mail.letter_out_invoice_fr")
        with self.env.cr.savepoint():
            letter.preview_move_id = move
            self.assertIn(move.name, letter.preview_subject)
            self.assertIn(move.name, letter.preview_body)


def label(code, word="Invoice"):
    """A letter's label running ``code``."""
    return f"{word} {{{{ {code} }}}}"


def text(code):
    """A letter's text running ``code``."""
    return f'<p>Hello <t t-out="{code}"/></p>'


@tagged("post_install", "-at_install")
class TestLetterCode(EquisisSendCase):
    """An accounting manager who is no template editor, with "Restrict
    Template Rendering" on, tries to run code through a letter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param(
            "mail.restrict.template.rendering", True
        )
        cls.Letter = cls.env["equisis.letter"]
        cls.attacker = new_test_user(
            cls.env,
            login="attacker",
            email="attacker@example.com",
            groups="account.group_account_manager",
        )
        cls.editor = new_test_user(
            cls.env,
            login="letter_editor",
            email="editor@example.com",
            groups="account.group_account_manager,mail.group_mail_template_editor",
        )
        # Someone else's data, which the attacker tries to change and to read.
        cls.victim = cls.make_partner("Victim", "victim@example.com")
        cls.secret = cls.env["ir.config_parameter"].get_param("database.secret")
        cls.move = cls.make_invoice(cls.make_partner("Acme", "acme@example.com"))
        cls.write_code = (
            f"object.env['res.partner'].sudo().browse({cls.victim.id})"
            ".write({'name': 'pwned'})"
        )
        cls.read_code = (
            "int(object.env['ir.config_parameter'].sudo().get_param('database.secret'))"
        )

    def setUp(self):
        super().setUp()
        self.assertFalse(self.attacker.has_group("mail.group_mail_template_editor"))

    def assertNotRun(self, message=""):
        """Nothing of the attacker's code ran, and nothing it read shows."""
        self.victim.invalidate_recordset()
        self.assertEqual(self.victim.name, "Victim", "the code ran")
        self.assertNotIn(self.secret, str(message))
        self.assertNotIn("pwned", str(message))

    def letter_form(self, user, name, body, letter=None, preview=True):
        """The letter's form as the user fills it in; with the preview
        asked for an invoice."""
        form = Form(letter.with_user(user) if letter else self.Letter.with_user(user))
        if not letter:
            form.code = "ATTACK"
            form.letter_type = "accompaniment"
            form.target = "out_invoice"
        form.name = name
        form.body_html = body
        if preview:
            form.preview_move_id = self.move
        return form

    def refusal(self, save):
        """The error of a save that must fail, caught without rolling back
        what the code may have done."""
        try:
            save()
        except (AccessError, UserError, ValidationError) as error:
            return str(error)
        self.fail("letter with code saved by a user who is no template editor")

    def test_code_in_a_letter_given_to_a_send_line_is_not_run(self):
        """A letter's text handed to a send line's onchange over RPC (an
        unsaved letter) is the user's own text: checked as such, never run,
        even for the line's stored subject (computed as superuser once)."""
        partner = self.make_partner("Someone", "someone@example.com")
        Line = self.env["equisis.mail.send.line"].with_user(self.attacker)
        for name, body in (
            (label(self.read_code, "Hello"), "<p>Hi</p>"),
            (label(self.write_code, "Hello"), "<p>Hi</p>"),
            ("Hello", text(self.write_code)),
        ):
            result = Line.onchange(
                {
                    "res_model": "res.partner",
                    "res_id": partner.id,
                    "letter_id": {
                        "code": "X",
                        "letter_type": "accompaniment",
                        "target": "contact",
                        "name": name,
                        "body_html": body,
                    },
                },
                ["letter_id"],
                {"subject": {}, "render_error": {}, "body_html": {}},
            )
            self.assertNotRun(result)
            self.assertFalse(result["value"].get("subject"))
            self.assertIn("Template Editor", result["value"].get("render_error"))

    def test_a_letter_for_another_kind_of_document_renders_nothing(self):
        """A line takes only a letter for its own kind of document: an
        invoice letter on a contact's line would read invoice fields of
        another record with the same id."""
        partner = self.make_partner("Someone", "someone@example.com")
        invoice_letter = self.Letter.search(
            [("target", "=", "out_invoice"), ("letter_type", "=", "accompaniment")],
            limit=1,
        )
        wizard = (
            self.env["equisis.mail.send"]
            .with_user(self.attacker)
            .create({"res_model": "res.partner", "res_ids": [partner.id]})
        )
        line = wizard.line_ids
        line.letter_id = invoice_letter
        self.assertFalse(line.subject)
        self.assertIn("not for this kind of document", line.render_error)
        self.assertTrue(line.problem)

    def test_code_in_unsaved_letter_is_not_run_by_the_preview(self):
        form = self.letter_form(
            self.attacker,
            label(self.write_code),
            text(self.write_code),
        )
        self.assertNotRun()
        self.assertFalse(form.preview_subject)
        self.assertIn("Template Editor", form.preview_body)

    def test_preview_error_shows_no_value_read_by_code(self):
        form = self.letter_form(
            self.attacker,
            label(self.read_code),
            text(self.read_code),
        )
        self.assertNotRun(form.preview_body)
        self.assertIn("Template Editor", form.preview_body)
        form.name = "Invoice {{ object.name }}"
        self.assertNotRun(form.preview_body)
        self.assertIn("Template Editor", form.preview_body)

    def test_unsafe_placeholders_need_template_editor(self):
        """Code is refused on save before it runs: the check that the letter
        renders on a sample document must not run it first."""
        form = self.letter_form(
            self.attacker,
            "Invoice {{ object.name }}",
            text(self.write_code),
            preview=False,
        )
        message = self.refusal(form.save)
        self.assertIn("Template Editor", message)
        self.assertNotRun(message)
        form = self.letter_form(
            self.attacker,
            label(self.write_code),
            "<p>Hello</p>",
            preview=False,
        )
        message = self.refusal(form.save)
        self.assertNotRun(message)

    def test_refusal_on_save_shows_no_value_read_by_code(self):
        for name, body in (
            (label(self.read_code), "<p>Hello</p>"),
            ("Invoice", text(self.read_code)),
        ):
            form = self.letter_form(self.attacker, name, body, preview=False)
            message = self.refusal(form.save)
            self.assertIn("Template Editor", message)
            self.assertNotRun(message)

    def test_code_added_to_a_saved_letter_is_not_run(self):
        letter = self.Letter.with_user(self.attacker).create(
            {
                "code": "PLAIN",
                "name": "Invoice {{ object.name }}",
                "letter_type": "accompaniment",
                "target": "out_invoice",
                "body_html": '<p>Dear <t t-out="object.partner_id.name"/></p>',
            }
        )
        # Edited in its form, not saved: the preview does not run it...
        form = self.letter_form(
            self.attacker,
            letter.name,
            text(self.write_code),
            letter=letter,
        )
        self.assertNotRun(form.preview_body)
        self.assertIn("Template Editor", form.preview_body)
        # ... and saving it does not either.
        message = self.refusal(
            lambda: letter.with_user(self.attacker).write(
                {"body_html": text(self.write_code)}
            )
        )
        self.assertNotRun(message)
        message = self.refusal(
            lambda: letter.with_user(self.attacker).write(
                {"name": label(self.read_code)}
            )
        )
        self.assertNotRun(message)

    def test_placeholders_allowed_by_odoo_stay_allowed(self):
        form = self.letter_form(
            self.attacker,
            "Invoice {{ object.name }}",
            '<p>Dear <t t-out="object.partner_id.name"/></p>',
        )
        self.assertEqual(form.preview_subject, f"Invoice {self.move.name}")
        self.assertIn("Dear Acme", form.preview_body)
        letter = form.save()
        self.assertEqual(letter.code, "ATTACK")
        # A saved letter is trusted, as a saved mail template: a ready-made
        # letter's code previews for everyone.
        ready_made = self.env.ref("equisis_mail.letter_out_invoice_en")
        form = Form(ready_made.with_user(self.attacker))
        form.preview_move_id = self.move
        self.assertIn(self.move.name, form.preview_subject)
        self.assertIn("1,234.56", form.preview_body)

    def test_template_editor_keeps_code(self):
        code = "object.partner_id.name.upper()"
        form = self.letter_form(
            self.editor,
            label(code),
            text(code),
        )
        self.assertEqual(form.preview_subject, "Invoice ACME")
        self.assertIn("ACME", form.preview_body)
        self.assertEqual(form.save().code, "ATTACK")

    def test_without_restriction_everyone_writes_code(self):
        """As in Odoo: with the restriction off, every user is an editor."""
        self.env["ir.config_parameter"].set_param(
            "mail.restrict.template.rendering", False
        )
        self.assertTrue(self.attacker.has_group("mail.group_mail_template_editor"))
        code = "object.partner_id.name.upper()"
        form = self.letter_form(
            self.attacker,
            label(code),
            text(code),
        )
        self.assertEqual(form.preview_subject, "Invoice ACME")
        self.assertEqual(form.save().code, "ATTACK")

    def test_sales_manager_code_is_not_run(self):
        """Sales managers write the letters of their orders (glue addon)."""
        if "sale.order" not in self.env:
            self.skipTest("equisis_mail_sale is not installed")
        manager = new_test_user(
            self.env,
            login="sales_attacker",
            email="sales@example.com",
            groups="sales_team.group_sale_manager",
        )
        self.assertFalse(manager.has_group("mail.group_mail_template_editor"))
        # An order to render the letter on, as the check on save does.
        self.env["sale.order"].create({"partner_id": self.victim.id})
        for name, body in (
            (
                "Order {{ object.name }}",
                text(self.write_code),
            ),
            (label(self.read_code, "Order"), "<p>Hello</p>"),
        ):
            message = self.refusal(
                lambda name=name, body=body: self.Letter.with_user(manager).create(
                    {
                        "code": "SO-ATTACK",
                        "name": name,
                        "letter_type": "accompaniment",
                        "target": "sale_order",
                        "body_html": body,
                    }
                )
            )
            self.assertNotRun(message)

    def test_typed_subject_and_body_are_sent_as_typed(self):
        """The send window never renders what its user types: code typed
        there leaves as text, and does not run."""
        wizard = self.open_wizard(self.move)
        line = wizard.line_ids
        subject = label(self.write_code)
        line.subject = subject
        line.body_html = text(self.write_code)
        self.send(wizard)
        self.assertNotRun()
        self.assertEqual(len(self.smtp.received), 1)
        sent = self.smtp.received[0].message["Subject"]
        self.assertEqual(" ".join(str(sent).split()), subject)
