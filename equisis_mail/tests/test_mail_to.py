# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from urllib.parse import parse_qs, unquote, urlsplit

from odoo.tests import HttpCase, TransactionCase, tagged


def parse_mailto(url):
    parts = urlsplit(url)
    assert parts.scheme == "mailto", url
    to = [unquote(a) for a in parts.path.split(",") if a]
    query = parse_qs(parts.query)
    bcc = [a for value in query.get("bcc", []) for a in value.split(",") if a]
    return to, bcc


@tagged("post_install", "-at_install")
class TestMailTo(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.email = "me@example.com"
        Partner = cls.env["res.partner"]
        cls.alice = Partner.create({"name": "Alice", "email": "alice@example.com"})
        cls.bert = Partner.create({"name": "Bert", "email": "bert+news@example.be"})
        cls.carl = Partner.create({"name": "Carl"})

    def _wizard(self, partners):
        action = self.env.ref("equisis_mail.res_partner_action_mail_to")
        result = action.with_context(
            active_model="res.partner", active_ids=partners.ids
        ).run()
        self.assertEqual(result["res_model"], "equisis.mail.to")
        return self.env["equisis.mail.to"].browse(result["res_id"])

    def test_acceptance(self):
        wizard = self._wizard(self.alice | self.bert | self.carl)
        wizard.use_bcc = True
        to, bcc = parse_mailto(wizard.mailto_url)
        self.assertEqual(sorted(bcc), ["alice@example.com", "bert+news@example.be"])
        self.assertNotIn("alice@example.com", to)
        self.assertIn("Carl", wizard.skipped)
        wizard.use_bcc = False
        to, bcc = parse_mailto(wizard.mailto_url)
        self.assertEqual(sorted(to), ["alice@example.com", "bert+news@example.be"])
        self.assertFalse(bcc)
        action = wizard.action_open()
        self.assertEqual(action["type"], "ir.actions.client")
        self.assertEqual(action["params"]["url"], wizard.mailto_url)

    def test_encoding_dedup_and_malformed(self):
        odd = self.env["res.partner"].create(
            {"name": "Odd", "email": "o&d%d@exämple.be"}
        )
        bad = self.env["res.partner"].create({"name": "Bad", "email": "not an address"})
        dup = self.env["res.partner"].create(
            {"name": "Alice 2", "email": "Alice@Example.com"}
        )
        wizard = self._wizard(self.alice | self.bert | odd | bad | dup)
        wizard.use_bcc = False
        url = wizard.mailto_url
        self.assertIn("bert%2Bnews@example.be", url)
        self.assertIn("o%26d%25d@xn--exmple-cua.be", url)
        self.assertIn("Bad: malformed address", wizard.skipped)
        self.assertEqual(wizard.address_count, 3)
        to, _bcc = parse_mailto(url)
        self.assertEqual(len(to), 3)

    def test_length_guard(self):
        Partner = self.env["res.partner"]
        many = Partner.create(
            [
                {"name": f"P{i}", "email": f"person.number{i}@example.com"}
                for i in range(80)
            ]
        )
        wizard = self._wizard(many)
        self.assertTrue(wizard.url_too_long)
        self.assertEqual(wizard.address_count, 80)


@tagged("post_install", "-at_install")
class TestMailToTour(HttpCase):
    def test_mail_to_tour(self):
        self.env.ref("base.user_admin").email = "admin@example.com"
        Partner = self.env["res.partner"]
        Partner.create(
            [
                {"name": "Tour Alpha", "email": "alpha@example.com"},
                {"name": "Tour Beta", "email": "beta@example.com"},
                {"name": "Tour Gamma", "email": "gamma@example.com"},
            ]
        )
        self.start_tour(
            "/odoo/contacts?view_type=list", "equisis_mail_to_tour", login="admin"
        )

    def test_mail_to_many_tour(self):
        """Too many addresses for a link: one list, and a copy button that
        works (the tour fails on a widget the web client does not know)."""
        self.env.ref("base.user_admin").email = "admin@example.com"
        many = self.env["res.partner"].create(
            [
                {
                    "name": f"Mailto Many {i:02}",
                    "email": f"mailto.many.person.number{i:02}@example.com",
                }
                for i in range(1, 61)
            ]
        )
        wizard = self.env["equisis.mail.to"].create({"partner_ids": many.ids})
        self.assertTrue(wizard.url_too_long)
        self.start_tour(
            "/odoo/contacts?view_type=list", "equisis_mail_to_many_tour", login="admin"
        )
