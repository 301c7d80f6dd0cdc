# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tests.common import new_test_user

from .common import EquisisMailCase


@tagged("post_install", "-at_install")
class TestUserProfile(EquisisMailCase):
    smtp_credentials = ("anna-login", "anna-secret")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.anna = new_test_user(
            cls.env, login="anna", email="anna@example.com", groups="base.group_user"
        )
        cls.bob = new_test_user(
            cls.env,
            login="bob",
            email="bob@example.com",
            groups="base.group_user,base.group_allow_export",
        )

    def _profile(self, **overrides):
        values = {
            "smtp_host": self.smtp.host,
            "smtp_port": self.smtp.port,
            "smtp_encryption": "none",
            "smtp_user": "anna-login",
            "smtp_pass": "anna-secret",
        }
        values.update(overrides)
        return values

    def _servers(self, user):
        return (
            self.env["ir.mail_server"]
            .with_context(active_test=False)
            .search([("owner_user_id", "=", user.id)])
        )

    def test_profile_creates_and_syncs_personal_server(self):
        self.anna.write(self._profile())
        server = self._servers(self.anna)
        self.assertEqual(len(server), 1)
        self.assertEqual(server.smtp_host, self.smtp.host)
        self.assertEqual(server.smtp_port, self.smtp.port)
        self.assertEqual(server.smtp_user, "anna-login")
        self.assertEqual(server.smtp_pass, "anna-secret")
        self.assertEqual(server.from_filter, "anna@example.com")
        self.assertEqual(self.anna.outgoing_mail_server_id, server)
        self.assertEqual(self.anna.smtp_user, "anna-login")

        self.anna.smtp_port = 2525
        self.assertEqual(server.smtp_port, 2525)
        self.assertEqual(len(self._servers(self.anna)), 1)

        self.anna.email = "anna.new@example.com"
        self.assertEqual(server.from_filter, "anna.new@example.com")
        self.assertEqual(self.anna.outgoing_mail_server_id, server)

        # The host's garbage collection of stale personal servers keeps it.
        self.env["res.users"]._gc_personal_mail_servers()
        self.assertTrue(server.exists())

        self.anna.smtp_host = False
        self.assertFalse(self._servers(self.anna))
        self.assertFalse(self.anna.outgoing_mail_server_id)
        self.assertEqual(self.anna.smtp_port, 587)

    def _change_own_address(self, user, email):
        """As the user does it: the preferences window, in their own session."""
        me = self.env["res.users"].with_user(user).browse(user.id)
        with Form(me, view="base.view_users_form_simple_modif") as preferences:
            preferences.email = email

    def test_own_address_change_keeps_the_profile(self):
        """An administrator's profile survives its user's new address: the
        server follows the address, and the host keeps it."""
        self.anna.write(
            self._profile(
                smtp_port=465, smtp_encryption="ssl", smtp_check_certificate=False
            )
        )
        server = self._servers(self.anna)
        self._change_own_address(self.anna, "anna.self@example.com")
        self.env.invalidate_all()
        self.assertEqual(self._servers(self.anna), server)
        self.assertEqual(server.from_filter, "anna.self@example.com")
        self.assertEqual(self.anna.outgoing_mail_server_id, server)
        self.env["res.users"]._gc_personal_mail_servers()
        self.assertTrue(server.exists(), "the host's garbage collection keeps it")
        self.env.invalidate_all()
        self.assertEqual(
            self.anna.read(
                [
                    "smtp_host",
                    "smtp_port",
                    "smtp_encryption",
                    "smtp_check_certificate",
                    "smtp_user",
                    "smtp_pass",
                ]
            )[0],
            {
                "id": self.anna.id,
                "smtp_host": self.smtp.host,
                "smtp_port": 465,
                "smtp_encryption": "ssl",
                "smtp_check_certificate": False,
                "smtp_user": "anna-login",
                "smtp_pass": "anna-secret",
            },
        )
        self.assertEqual(server.smtp_encryption, "ssl", "the mode is kept")

    def test_own_address_change_keeps_sending_through_own_server(self):
        self.anna.write(self._profile())
        self._change_own_address(self.anna, "anna.self@example.com")
        self.env["res.users"]._gc_personal_mail_servers()
        self.env.invalidate_all()
        mail = (
            self.env["mail.mail"]
            .with_user(self.anna)
            .sudo()
            .create(
                {
                    "subject": "Hello",
                    "body_html": "<p>Hi</p>",
                    "email_from": self.anna.email_formatted,
                    "email_to": "customer@example.com",
                    "mail_server_id": self.anna.outgoing_mail_server_id.id,
                }
            )
        )
        self.flush_mail_queue(mail)
        self.assertEqual(mail.state, "sent", mail.failure_reason)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(self.smtp.received[0].login, "anna-login")
        self.assertEqual(self.smtp.received[0].mail_from, "anna.self@example.com")
        self.assertFalse(self.default_smtp.received)

    def test_address_changed_on_the_contact_keeps_the_server(self):
        """An address changed on the user's contact, not through the user
        (a contact manager, an import), is followed before the host's
        garbage collection, which would otherwise delete the server."""
        self.anna.write(self._profile())
        server = self._servers(self.anna)
        self.anna.partner_id.email = "anna.contact@example.com"
        self.env["res.users"]._gc_personal_mail_servers()
        self.assertTrue(server.exists())
        self.assertEqual(server.from_filter, "anna.contact@example.com")
        self.env.invalidate_all()
        self.assertEqual(self.anna.outgoing_mail_server_id, server)
        self.assertEqual(self.anna.smtp_user, "anna-login")

    def test_own_address_must_stay_valid_with_own_server(self):
        """The server needs an address to send from: clearing it is refused
        rather than leaving a server the host would delete."""
        self.anna.write(self._profile())
        server = self._servers(self.anna)
        me = self.env["res.users"].with_user(self.anna).browse(self.anna.id)
        with (
            self.assertRaisesRegex(ValidationError, "needs a valid e-mail address"),
            self.env.cr.savepoint(),
        ):
            me.write({"email": False})
        self.env.invalidate_all()
        self.assertEqual(self.anna.email, "anna@example.com")
        self.assertEqual(server.from_filter, "anna@example.com")
        self.assertEqual(self.anna.outgoing_mail_server_id, server)

    def test_changing_one_value_keeps_the_others(self):
        self.anna.write(self._profile())
        self.env.invalidate_all()
        self.anna.smtp_pass = "new-secret"
        server = self._servers(self.anna)
        self.assertEqual(len(server), 1)
        self.assertEqual(server.smtp_host, self.smtp.host)
        self.assertEqual(server.smtp_user, "anna-login")
        self.assertEqual(server.smtp_pass, "new-secret")
        self.env.invalidate_all()
        self.anna.write({"smtp_port": 2525})
        self.assertEqual((server.smtp_port, server.smtp_pass), (2525, "new-secret"))

    def test_bad_input_is_refused_and_nothing_saved(self):
        cases = [
            ({"smtp_port": 0}, "between 1 and 65535"),
            ({"smtp_port": 70000}, "between 1 and 65535"),
            ({"smtp_host": "smtp example.com"}, "host name"),
            ({"smtp_host": "smtp://example.com"}, "host name"),
            ({"smtp_encryption": "ssl", "smtp_port": 25}, "port 25"),
            ({"smtp_host": False}, "needs an SMTP server"),
        ]
        for overrides, message in cases:
            with self.subTest(overrides=overrides):
                with (
                    self.assertRaisesRegex(ValidationError, message),
                    self.env.cr.savepoint(),
                ):
                    self.anna.write(self._profile(**overrides))
                self.assertFalse(self._servers(self.anna))

    def test_user_without_address_cannot_get_a_server(self):
        self.anna.email = False
        with self.assertRaisesRegex(ValidationError, "no valid e-mail address"):
            self.anna.write(self._profile())
        self.assertFalse(self._servers(self.anna))

    def test_connection_test_reports_success_and_error(self):
        self.anna.write(self._profile())
        from .common import real_delivery

        with real_delivery(self.env):
            result = self.anna.action_equisis_test_smtp()
        self.assertEqual(result["params"]["type"], "success")
        self.anna.smtp_pass = "wrong"
        with real_delivery(self.env), self.assertRaises(UserError) as caught:
            self.anna.action_equisis_test_smtp()
        self.assertIn("535", str(caught.exception))
        # An unreachable server: nothing listens on the fixture's port + 1 ...
        self.anna.write({"smtp_pass": "anna-secret", "smtp_port": 1})
        with real_delivery(self.env), self.assertRaises(UserError):
            self.anna.action_equisis_test_smtp()

    @users("bob")
    def test_password_hidden_from_non_administrators(self):
        self.anna.sudo().write(self._profile())
        anna = self.anna.with_user(self.env.user)
        # env.user is a superuser record: browse our own record as the client does.
        me = self.env["res.users"].browse(self.env.uid)
        for user in (anna, me):
            with self.assertRaises(AccessError):
                user.read(["smtp_pass"])
            with self.assertRaises(AccessError):
                user.search_read([("id", "=", user.id)], ["smtp_pass"])
            with self.assertRaises(AccessError):
                self.env["res.users"].search([("smtp_pass", "=", "anna-secret")])
        with self.assertRaises(AccessError):
            anna.export_data(["smtp_pass"])
        with self.assertRaises(AccessError):
            anna.onchange({"smtp_host": "x"}, ["smtp_host"], {"smtp_pass": {}})
        with self.assertRaises(AccessError):
            self.env["ir.mail_server"].search_read([], ["smtp_pass"])
        self.assertNotIn("smtp_pass", self.env["res.users"].fields_get())

    @users("anna")
    def test_user_sees_own_profile_but_not_password(self):
        self.anna.sudo().write(self._profile())
        me = self.env["res.users"].browse(self.env.uid)
        values = me.read(["equisis_smtp_summary", "bcc_confirmation"])[0]
        self.assertIn(self.smtp.host, values["equisis_smtp_summary"])
        me.write({"bcc_confirmation": True, "signature": "<p>Anna</p>"})
        self.assertTrue(me.bcc_confirmation)
        with self.assertRaises(AccessError):
            me.read(["smtp_pass"])
        with self.assertRaises(AccessError):
            me.write({"smtp_host": "evil.example.com"})

    def test_mail_leaves_through_own_server_with_own_login(self):
        self.anna.write(self._profile())
        mail = (
            self.env["mail.mail"]
            .with_user(self.anna)
            .sudo()
            .create(
                {
                    "subject": "Hello",
                    "body_html": "<p>Hi</p>",
                    "email_from": self.anna.email_formatted,
                    "email_to": "customer@example.com",
                }
            )
        )
        self.flush_mail_queue(mail)
        self.assertEqual(mail.state, "sent", mail.failure_reason)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertEqual(self.smtp.received[0].login, "anna-login")
        self.assertFalse(self.default_smtp.received)

    def test_mail_of_another_user_cannot_use_my_server(self):
        self.anna.write(self._profile())
        with self.assertRaisesRegex(ValidationError, "another user's mail server"):
            self.env["mail.mail"].with_user(self.bob).sudo().create(
                {
                    "subject": "Spoof",
                    "body_html": "<p>Hi</p>",
                    "email_from": self.anna.email_formatted,
                    "email_to": "customer@example.com",
                    "mail_server_id": self.anna.outgoing_mail_server_id.id,
                }
            )
        # Without forcing the server, Bob's mail leaves through the company's.
        mail = (
            self.env["mail.mail"]
            .with_user(self.bob)
            .sudo()
            .create(
                {
                    "subject": "Spoof",
                    "body_html": "<p>Hi</p>",
                    "email_from": self.anna.email_formatted,
                    "email_to": "customer@example.com",
                }
            )
        )
        self.flush_mail_queue(mail)
        self.assertFalse(self.smtp.received)
        self.assertEqual(len(self.default_smtp.received), 1)
