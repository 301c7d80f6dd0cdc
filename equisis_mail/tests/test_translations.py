# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree

from odoo.tests import tagged

from .common import EquisisSendCase


@tagged("post_install", "-at_install")
class TestFrench(EquisisSendCase):
    """A French-speaking user sees the addon in French."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.module.module"]._load_module_terms(
            ["equisis_mail"], ["fr_FR", "nl_NL"], overwrite=True
        )
        cls.sender.lang = "fr_FR"
        # What the web client sends: the user's own context, French here.
        cls.env = cls.env(context=dict(cls.env.context, lang="fr_FR"))

    def test_send_window_in_french(self):
        partner = self.make_partner("Sans adresse", False, lang="fr_BE")
        move = self.make_invoice(partner)
        wizard = self.open_wizard(move).with_context(lang="fr_FR")
        self.assertIn("Aucun destinataire", wizard.line_ids.problem)
        line = wizard.line_ids
        line.email_to = "pas-une-adresse"
        self.assertIn("Adresse mal formée", line.problem)
        fields = wizard.fields_get(["bcc_confirmation", "line_ids"])
        self.assertEqual(fields["bcc_confirmation"]["string"], "Confirmation par Bcc")
        arch = wizard.get_view(
            self.env.ref("equisis_mail.equisis_mail_send_view_form").id
        )["arch"]
        self.assertIn("Envoyer", arch)

    def test_menus_and_mail_to_in_french(self):
        menu = self.env.ref("equisis_mail.equisis_letter_menu").with_context(
            lang="fr_FR"
        )
        self.assertEqual(menu.name, "Lettres")
        MailTo = self.env["equisis.mail.to"].with_context(lang="fr_FR")
        arch = MailTo.get_view(
            self.env.ref("equisis_mail.equisis_mail_to_view_form").id
        )["arch"]
        labels = etree.fromstring(arch).xpath("//label[@for='use_bcc']/@string")
        self.assertTrue(labels[0].startswith("Mettre les destinataires en Bcc"), labels)
        action = self.env.ref("equisis_mail.account_move_action_send_email")
        self.assertEqual(
            action.with_context(lang="fr_FR").name, "Envoyer par e-mail avec lettres"
        )
        self.assertEqual(
            action.with_context(lang="nl_NL").name, "Per e-mail versturen met brieven"
        )

    def test_action_name_differs_from_the_hosts_in_every_language(self):
        """Odoo's own Send (Print & Send) sits beside ours on invoices."""
        self.env["ir.module.module"]._load_module_terms(
            ["base", "mail", "account"], ["fr_FR", "nl_NL"], overwrite=True
        )
        ours = self.env.ref("equisis_mail.account_move_action_send_email")
        Move = self.env["account.move"]
        for lang in ("en_US", "fr_FR", "nl_NL"):
            bound = (
                self.env["ir.actions.actions"]
                .with_context(lang=lang)
                .search(
                    [
                        ("binding_model_id.model", "=", "account.move"),
                        ("id", "!=", ours.id),
                    ]
                )
            )
            names = {action.name.casefold() for action in bound}
            for view_type in ("list", "form"):
                arch = Move.with_context(lang=lang).get_view(view_type=view_type)
                tree = etree.fromstring(arch["arch"])
                names |= {label.casefold() for label in tree.xpath("//button/@string")}
            self.assertIn(
                "send"
                if lang == "en_US"
                else "envoyer"
                if lang == "fr_FR"
                else "verzenden",
                names,
                "the host's own Send is among the names compared",
            )
            self.assertNotIn(ours.with_context(lang=lang).name.casefold(), names, lang)
