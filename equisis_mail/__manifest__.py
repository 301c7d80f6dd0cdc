# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Equisis Mail",
    "summary": "Send invoices by e-mail through each user's own SMTP server, "
    "with letters per language, e-invoices, annexes and BCC confirmation",
    "version": "19.0.1.4.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/equisis/equisis_mail",
    "author": "equisis_mail contributors",
    "maintainers": ["equisis"],
    "license": "LGPL-3",
    # mail is used directly (mail.mail, mail.render.mixin, personal servers).
    "depends": ["account", "contacts", "mail"],
    "data": [
        "security/equisis_mail_security.xml",
        "security/ir.model.access.csv",
        "data/equisis_letter_data.xml",
        "views/res_users_views.xml",
        "views/equisis_letter_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_partner_views.xml",
        "views/account_move_views.xml",
        "wizards/equisis_mail_send_views.xml",
        "wizards/equisis_mail_to_views.xml",
        "data/ir_actions_server_data.xml",
    ],
    "demo": [
        "demo/equisis_mail_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "equisis_mail/static/src/js/mailto_action.js",
        ],
        "web.assets_tests": [
            "equisis_mail/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "application": False,
}
