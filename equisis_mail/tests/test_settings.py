# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import TransactionCase, tagged

PARAM = "mail.server.personal.limit.minutes"


@tagged("post_install", "-at_install")
class TestPersonalLimitSetting(TransactionCase):
    """The Settings page shows the personal server limit the host applies."""

    def _settings(self):
        return self.env["res.config.settings"].create({})

    def _param(self):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM)

    def test_unset_or_zero_shows_the_host_default(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(PARAM, False)
        default = self.env["ir.mail_server"]._get_personal_mail_servers_limit()
        self.assertEqual(default, 30)
        self.assertEqual(self._settings().equisis_personal_server_limit, 30)
        params.set_param(PARAM, "0")
        self.assertEqual(self._settings().equisis_personal_server_limit, 30)
        params.set_param(PARAM, "12")
        self.assertEqual(self._settings().equisis_personal_server_limit, 12)

    def test_save(self):
        self.env["ir.config_parameter"].sudo().set_param(PARAM, False)
        # Saving the page with the default shown does not pin the parameter.
        self._settings().execute()
        self.assertFalse(self._param())
        settings = self._settings()
        settings.equisis_personal_server_limit = 45
        settings.execute()
        self.assertEqual(self._param(), "45")
        self.assertEqual(self._settings().equisis_personal_server_limit, 45)
        self.assertEqual(
            self.env["ir.mail_server"]._get_personal_mail_servers_limit(), 45
        )
        # 0 goes back to the host's default.
        settings = self._settings()
        settings.equisis_personal_server_limit = 0
        settings.execute()
        self.assertFalse(self._param())
        self.assertEqual(self._settings().equisis_personal_server_limit, 30)
