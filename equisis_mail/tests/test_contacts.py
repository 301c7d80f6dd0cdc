# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Issue 26: direct mails to contacts, one per contact, with letters."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import (
    EquisisSendCase,
    cron_progress_without_commit,
    real_delivery,
    user_smtp_on_loopback,
)


@tagged("post_install", "-at_install")
class TestContacts(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.en = cls.make_partner("Contact English", "english@example.com", "en_US")
        cls.fr = cls.make_partner("Contact Français", "francais@example.be", "fr_BE")
        cls.nl = cls.make_partner(
            "Contact Nederlands", "nederlands@example.be", "nl_BE"
        )
        cls.gone = cls.make_partner("Unsubscribed", "Gone@Example.com", "en_US")
        cls.env["mail.blacklist"].create({"email": "gone@example.com"})
        # An internal user who may read contacts and nothing of invoicing.
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "Clara Clerk",
                "login": "clara",
                "email": "clara@example.com",
                "group_ids": [Command.set(cls.env.ref("base.group_user").ids)],
            }
        )
        # An internal user who may also create and change contacts.
        cls.contact_manager = cls.env["res.users"].create(
            {
                "name": "Max Manager",
                "login": "max",
                "email": "max@example.com",
                "group_ids": [
                    Command.set(
                        (
                            cls.env.ref("base.group_user")
                            | cls.env.ref("base.group_partner_manager")
                        ).ids
                    )
                ],
            }
        )

    def open_contacts(self, partners, user=None):
        """Run the contract's server action, as from the Contacts list."""
        user = user or self.sender
        action = self.env.ref("equisis_mail.res_partner_action_send_email")
        result = (
            action.with_user(user)
            .with_context(lang=user.lang)
            .with_context(active_model="res.partner", active_ids=partners.ids)
            .run()
        )
        self.assertEqual(result["res_model"], "equisis.mail.send")
        return self.env["equisis.mail.send"].with_user(user).browse(result["res_id"])

    def upload(self, wizard, name, content):
        """A file uploaded in the window, as its many2many_binary field does."""
        annex = (
            self.env["ir.attachment"]
            .with_user(wizard.env.user)
            .create(
                {
                    "name": name,
                    "raw": content,
                    "res_model": wizard._name,
                    "res_id": wizard.id,
                }
            )
        )
        wizard.annex_ids = [Command.link(annex.id)]
        return annex

    def lines(self, wizard):
        return {
            self.env["res.partner"].browse(line.res_id): line
            for line in wizard.line_ids
        }

    def test_acceptance_three_languages_blacklist_annex(self):
        """The issue's acceptance, through the contract's names."""
        self.sender.bcc_confirmation = True
        contacts = self.en | self.fr | self.nl | self.gone
        wizard = self.open_contacts(contacts)
        self.assertTrue(wizard.bcc_confirmation)
        self.assertEqual(len(wizard.line_ids), 4)
        lines = self.lines(wizard)
        self.assertEqual(set(wizard.line_ids.mapped("res_model")), {"res.partner"})
        self.assertEqual(
            {line.letter_id.code for line in wizard.line_ids},
            {"CONTACT-EN", "CONTACT-FR", "CONTACT-NL"},
        )
        self.assertEqual(lines[self.fr].letter_id.code, "CONTACT-FR")
        self.assertEqual(lines[self.nl].letter_id.code, "CONTACT-NL")
        for contact in self.en | self.fr | self.nl:
            self.assertFalse(lines[contact].problem, contact.name)
            self.assertFalse(lines[contact].report_id)
        self.assertIn("Blacklisted", lines[self.gone].problem)
        self.assertIn("gone@example.com", lines[self.gone].problem)
        price_list = self.upload(wizard, "price-list.txt", b"prices 2027")
        self.assertEqual(set(wizard.line_ids.mapped("attachment_count")), {1})

        self.send(wizard)

        self.assertFalse(self.default_smtp.received, "the user's own server only")
        self.assertEqual(len(self.smtp.received), 3, "one mail per contact")
        by_contact = {}
        for received in self.smtp.received:
            self.assertEqual(received.login, "sender-login")
            self.assertEqual(received.mail_from, "sophie@example.com")
            # The contact and the sender's blind copy, nobody else.
            (address,) = set(received.rcpt_tos) - {"sophie@example.com"}
            self.assertIn("sophie@example.com", received.rcpt_tos)
            self.assertNotIn("sophie@example.com", received.recipient_headers())
            self.assertNotIn("\r\nBcc:", received.header_text())
            for other in contacts.mapped("email_normalized"):
                if other != address:
                    self.assertNotIn(other, received.raw.decode(errors="replace"))
            self.assertEqual(
                dict(received.attachments())["price-list.txt"], b"prices 2027"
            )
            by_contact[address] = received.message
        self.assertNotIn("gone@example.com", by_contact)
        for address, subject, greeting in (
            ("english@example.com", "Information for Contact English", "Dear"),
            ("francais@example.be", "Informations pour Contact Français", "Bonjour"),
            ("nederlands@example.be", "Informatie voor Contact Nederlands", "Beste"),
        ):
            message = by_contact[address]
            self.assertEqual(message["Subject"], subject)
            body = message.get_body(("html",)).get_content()
            self.assertIn(greeting, body)
            self.assertIn("Sophie Sender, Accounting", body)
        # Each contact's chatter logs its mail with its own copy of the file.
        files = self.env["ir.attachment"]
        for contact in self.en | self.fr | self.nl:
            message = contact.message_ids.filtered(
                lambda m: "E-mail to" in (m.body or "")
            )
            self.assertEqual(len(message), 1)
            self.assertEqual(message.attachment_ids.mapped("name"), ["price-list.txt"])
            files |= message.attachment_ids
            self.assertEqual(contact.equisis_mail_state, "sent")
            self.assertEqual(contact.equisis_mail_sent_to, contact.email)
        self.assertEqual(len(files), 3, "one file per mail")
        self.assertTrue(price_list.exists(), "kept for the line left in the window")
        # The blacklisted contact stays in the window with its reason.
        self.assertEqual(wizard.line_ids.res_id, self.gone.id)
        self.assertIn("Blacklisted", wizard.line_ids.problem)
        self.assertFalse(self.gone.equisis_mail_state)

    def test_red_lines_say_why(self):
        company = self.env["res.partner"].create(
            {"name": "Silent Ltd", "is_company": True, "email": False}
        )
        self.env["res.partner"].create(
            {"name": "Anna Silent", "parent_id": company.id, "email": "anna@x.example"}
        )
        nobody = self.make_partner("Nobody", False)
        broken = self.make_partner("Broken", "not-an-address")
        wizard = self.open_contacts(company | nobody | broken | self.en)
        lines = self.lines(wizard)
        self.assertIn("Silent Ltd has no e-mail address", lines[company].problem)
        self.assertIn("Anna Silent", lines[company].problem)
        self.assertIn("No recipient", lines[nobody].problem)
        self.assertIn("Malformed address: not-an-address", lines[broken].problem)
        self.assertFalse(lines[self.en].problem)
        # Red lines come first.
        self.assertEqual(wizard.line_ids[-1], lines[self.en])
        # Typed addresses fix a line; a blacklisted one typed turns it red.
        lines[company].email_to = "office@silent.example; anna@x.example"
        self.assertFalse(lines[company].problem)
        lines[nobody].email_to = "someone@x.example; GONE@example.com"
        self.assertIn("Blacklisted", lines[nobody].problem)
        lines[nobody].email_to = "someone@x.example"
        self.send(wizard)
        self.assertEqual(len(self.smtp.received), 3)
        rcpts = sorted(tuple(sorted(r.rcpt_tos)) for r in self.smtp.received)
        self.assertEqual(
            rcpts,
            [
                ("anna@x.example", "office@silent.example"),
                ("english@example.com",),
                ("someone@x.example",),
            ],
        )

    def test_service_refuses_a_blacklisted_address(self):
        """The service checks again what the window showed: a request made
        by RPC cannot mail a blacklisted address."""
        letter = self.env.ref("equisis_mail.letter_contact_en")
        Service = self.env["equisis.mail.service"].with_user(self.sender)
        values = {
            "email_to": ["english@example.com", "gone@example.com"],
            "subject": "Hello",
            "body": letter.body_html,
            "attachment_ids": [],
            "report_id": False,
            "bcc": False,
        }
        with self.assertRaisesRegex(UserError, "Blacklisted"):
            Service._send({self.en.with_user(self.sender): values})
        # A report is no part of a direct mail.
        values["email_to"] = ["english@example.com"]
        values["report_id"] = self.env.ref("account.account_invoices").id
        with self.assertRaises(AccessError):
            Service._send({self.en.with_user(self.sender): values})
        self.assertFalse(self.smtp.received)

    def test_internal_user_with_read_access_sends_portal_user_cannot(self):
        """Reading a contact is enough to mail it; invoices still need their
        own rights, and portal users get no window at all."""
        self.assertFalse(self.en.with_user(self.clerk).has_access("write"))
        wizard = self.open_contacts(self.en, user=self.clerk)
        self.assertFalse(wizard.line_ids.problem)
        self.send(wizard)
        self.assertEqual(len(self.default_smtp.received), 1, "the company's server")
        self.assertEqual(
            self.default_smtp.received[0].rcpt_tos, ["english@example.com"]
        )
        self.assertEqual(self.en.equisis_mail_state, "sent")
        move = self.make_invoice(self.en)
        with self.assertRaises(AccessError):
            self.env["equisis.mail.send"].with_user(self.clerk).create(
                {"res_model": "account.move", "res_ids": move.ids}
            )
        portal = self.env["res.users"].create(
            {
                "name": "Paul Portal",
                "login": "paul",
                "email": "paul@example.com",
                "group_ids": [Command.set(self.env.ref("base.group_portal").ids)],
            }
        )
        with self.assertRaises(AccessError):
            self.env["equisis.mail.send"].with_user(portal).create(
                {"res_model": "res.partner", "res_ids": portal.partner_id.ids}
            )
        with self.assertRaises(AccessError):
            self.en.with_user(portal).sudo(False)._equisis_check_send_access()

    def test_status_fields_stay_the_services(self):
        """res.partner is written everywhere: its usual fields stay writable,
        the mail status is the service's only."""
        self.en.write({"comment": "<p>VIP</p>"})
        with self.assertRaises(AccessError):
            self.en.with_user(self.clerk).write({"equisis_mail_state": "sent"})
        manager = self.contact_manager
        self.en.with_user(manager).write({"function": "Buyer"})
        with self.assertRaises(AccessError):
            self.en.with_user(manager).write({"equisis_mail_failure": "forged"})
        copy = self.en.copy()
        self.assertFalse(copy.equisis_mail_state)
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(manager).with_context(
                default_equisis_mail_state="sent"
            ).create({"name": "Forged"})

    def test_contacts_merge_after_a_mail(self):
        """Odoo's contact merge, by a contact manager, still works once one
        of the contacts was mailed: the kept contact shows that mail's
        status."""
        self.send(self.open_contacts(self.fr))
        self.assertEqual(self.fr.equisis_mail_state, "sent")
        duplicate = self.make_partner(
            "Contact Français (doublon)", "francais@example.be", "fr_BE"
        )
        # An older status of the kept contact, with no mail of the addon.
        duplicate.sudo().write(
            {"equisis_mail_state": "failed", "equisis_mail_failure": "Older"}
        )
        manager = self.contact_manager
        merge = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(manager)
            .create(
                {
                    "partner_ids": [Command.set((self.fr | duplicate).ids)],
                    "dst_partner_id": duplicate.id,
                    "state": "selection",
                }
            )
        )
        mail = self.env["mail.mail"].search(
            [("equisis_model", "=", "res.partner"), ("equisis_res_id", "=", self.fr.id)]
        )
        self.assertEqual(len(mail), 1)
        merge.action_merge()
        self.assertFalse(self.fr.exists())
        self.assertEqual(mail.equisis_res_id, duplicate.id)
        self.assertEqual(duplicate.equisis_mail_state, "sent")
        self.assertIn("francais@example.be", duplicate.equisis_mail_sent_to)
        self.assertTrue(duplicate.equisis_mail_sent_date)
        with self.assertRaises(AccessError):
            duplicate.with_user(manager).write({"equisis_mail_state": "failed"})

    def test_contacts_waiting_for_their_mail_are_not_merged(self):
        """A contact whose mail waits in the background queue is merged
        once the mail is sent: Odoo's merge says so and changes nothing."""
        self.env["ir.config_parameter"].set_param(
            "equisis_mail.background_threshold", 1
        )
        self.send(self.open_contacts(self.en | self.nl))
        self.assertEqual(self.en.equisis_mail_state, "queued")
        duplicate = self.make_partner("Contact English (2)", "english@example.com")
        merge = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(self.contact_manager)
            .create(
                {
                    "partner_ids": [Command.set((self.en | duplicate).ids)],
                    "dst_partner_id": duplicate.id,
                    "state": "selection",
                }
            )
        )
        with self.assertRaisesRegex(UserError, "waiting to be sent"):
            merge.action_merge()
        self.assertTrue(self.en.exists())
        self.assertEqual(self.en.equisis_mail_state, "queued")

    def test_a_contact_mailed_before_is_not_held(self):
        """A direct mail is no document sent twice: each goes, and the line
        says when the contact was last mailed."""
        self.send(self.open_contacts(self.en))
        again = self.open_contacts(self.en)
        self.assertIn("Sent on", again.line_ids.sent_note)
        self.assertFalse(again.line_ids.already_sent)
        self.assertFalse(again.already_sent_count)
        self.send(again)
        self.assertEqual(len(self.smtp.received), 2)
        self.assertFalse(again.line_ids)

    def test_annex_for_every_mail_and_one_for_a_line(self):
        wizard = self.open_contacts(self.en | self.fr)
        self.upload(wizard, "common.txt", b"for all")
        lines = self.lines(wizard)
        own = (
            self.env["ir.attachment"]
            .with_user(self.sender)
            .create(
                {
                    "name": "only-fr.txt",
                    "raw": b"pour vous",
                    "res_model": lines[self.fr]._name,
                    "res_id": lines[self.fr].id,
                }
            )
        )
        lines[self.fr].attachment_ids = [Command.link(own.id)]
        self.assertEqual(lines[self.fr].attachment_count, 2)
        self.assertEqual(lines[self.en].attachment_count, 1)
        common = wizard.annex_ids
        self.send(wizard)
        self.assertFalse(common.exists(), "each mail has its copy, the upload goes")
        files = {
            received.rcpt_tos[0]: dict(received.attachments())
            for received in self.smtp.received
        }
        self.assertEqual(files["english@example.com"], {"common.txt": b"for all"})
        self.assertEqual(
            files["francais@example.be"],
            {"common.txt": b"for all", "only-fr.txt": b"pour vous"},
        )

    def test_background_batch(self):
        self.env["ir.config_parameter"].set_param(
            "equisis_mail.background_threshold", 2
        )
        contacts = self.en | self.fr | self.nl
        wizard = self.open_contacts(contacts)
        self.upload(wizard, "common.txt", b"for all")
        self.send(wizard)
        self.assertFalse(self.smtp.received)
        self.assertEqual(self.queued(contacts), contacts)
        self.assertEqual(set(contacts.mapped("equisis_mail_state")), {"queued"})
        with real_delivery(self.env), cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        self.assertEqual(len(self.smtp.received), 3)
        self.assertTrue(
            all(
                dict(r.attachments()).get("common.txt") == b"for all"
                for r in self.smtp.received
            )
        )
        self.assertEqual(set(contacts.mapped("equisis_mail_state")), {"sent"})

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_failure_then_retry(self):
        self.smtp.refuse_recipient("francais@example.be", "550 5.1.1 No such user")
        self.send(self.open_contacts(self.en | self.fr))
        self.assertEqual(self.en.equisis_mail_state, "sent")
        self.assertEqual(self.fr.equisis_mail_state, "failed")
        self.assertIn("550", self.fr.equisis_mail_failure)
        Partner = self.env["res.partner"].with_user(self.sender)
        scope = [("id", "in", (self.en | self.fr).ids)]
        self.assertEqual(
            Partner.search(scope + [("equisis_mail_state", "=", "failed")]), self.fr
        )
        self.smtp.reset()
        with real_delivery(self.env):
            (self.en | self.fr).with_user(self.sender).action_equisis_retry_mail()
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(self.smtp.received[0].rcpt_tos, ["francais@example.be"])
        self.assertEqual(self.fr.equisis_mail_state, "sent")

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_retry_checks_again_what_the_window_checks(self):
        """A contact whose mail failed asks for no more mail meanwhile:
        “Retry e-mail” refuses and says why; nothing leaves."""
        self.smtp.refuse_recipient("francais@example.be", "550 5.1.1 No such user")
        self.send(self.open_contacts(self.fr))
        self.assertEqual(self.fr.equisis_mail_state, "failed")
        self.env["mail.blacklist"].create({"email": "francais@example.be"})
        self.smtp.reset()
        with (
            real_delivery(self.env),
            self.assertRaisesRegex(
                UserError, "(?s)Nothing was sent again.*Blacklisted"
            ),
        ):
            self.fr.with_user(self.sender).action_equisis_retry_mail()
        self.assertFalse(self.smtp.received)
        self.assertEqual(self.fr.equisis_mail_state, "failed")

    def test_contact_of_no_company_takes_the_current_companys_letters(self):
        self.assertFalse(self.fr.company_id)
        company_letter = self.env.ref("equisis_mail.letter_contact_fr").copy(
            {"code": "CONTACT-FR-CO", "company_id": self.env.company.id, "sequence": 1}
        )
        wizard = self.open_contacts(self.fr)
        self.assertEqual(wizard.line_ids.letter_id, company_letter)

    def test_ready_made_letters(self):
        letters = self.env["equisis.letter"].search([("target", "=", "contact")])
        self.assertEqual(
            set(letters.mapped("lang_id.code")), {"en_US", "fr_FR", "nl_NL"}
        )
        self.assertEqual(set(letters.mapped("render_model")), {"res.partner"})
        # A letter from a user who is no template editor: simple placeholders.
        editor = self.env.ref("mail.group_mail_template_editor")
        self.env["ir.config_parameter"].set_param(
            "mail.restrict.template.rendering", True
        )
        manager = new_test_user(
            self.env,
            login="lea",
            email="lea@example.com",
            groups="account.group_account_manager",
        )
        self.assertNotIn(editor, manager.all_group_ids)
        letter = (
            self.env["equisis.letter"]
            .with_user(manager)
            .create(
                {
                    "code": "CLOSING",
                    "name": "Holiday closing, {{ object.name }}",
                    "target": "contact",
                    "lang_id": self.env.ref("base.lang_en").id,
                    "body_html": '<p>Dear <t t-out="object.name"/>, we close.</p>',
                }
            )
        )
        wizard = self.open_contacts(self.en)
        wizard.line_ids.letter_id = letter
        self.assertEqual(wizard.line_ids.subject, "Holiday closing, Contact English")
        with self.assertRaises(AccessError):
            letter.with_user(
                manager
            ).body_html = '<p t-out="object.env.user.password"/>'


@tagged("post_install", "-at_install")
class TestContactsTour(HttpCase):
    def test_contacts_tour(self):
        admin = self.env.ref("base.user_admin")
        admin.email = "admin@example.com"
        for code in ("fr_BE", "nl_BE"):
            self.env["res.lang"]._activate_lang(code)
        Partner = self.env["res.partner"]
        Partner.create(
            [
                {"name": "Tour Contact EN", "email": "en@example.com", "lang": "en_US"},
                {"name": "Tour Contact FR", "email": "fr@example.com", "lang": "fr_BE"},
                {"name": "Tour Contact NL", "email": "nl@example.com", "lang": "nl_BE"},
                {"name": "Tour Contact Gone", "email": "gone@example.com"},
            ]
        )
        self.env["mail.blacklist"].create({"email": "gone@example.com"})
        with user_smtp_on_loopback(self, admin) as smtp:
            self.start_tour(
                "/odoo/contacts?view_type=list",
                "equisis_mail_contacts_tour",
                login="admin",
            )
        self.assertEqual(len(smtp.received), 3)
        subjects = sorted(received.message["Subject"] for received in smtp.received)
        self.assertEqual(
            subjects,
            sorted(
                [
                    "Information for Tour Contact EN",
                    "Informations pour Tour Contact FR",
                    "Informatie voor Tour Contact NL",
                ]
            ),
        )
        for received in smtp.received:
            self.assertEqual(len(received.rcpt_tos), 1)
            self.assertEqual(
                dict(received.attachments()).get("agenda.txt"), b"Closed in August"
            )
