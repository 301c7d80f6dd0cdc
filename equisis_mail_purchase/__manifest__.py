# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Equisis Mail - Purchase",
    "summary": "Send requests for quotation and purchase orders by e-mail with "
    "letters, in batches, through each user's own SMTP server",
    "version": "19.0.1.1.0",
    "category": "Inventory/Purchase",
    "website": "https://github.com/equisis/equisis_mail",
    "author": "equisis_mail contributors",
    "maintainers": ["equisis"],
    "license": "LGPL-3",
    "depends": ["equisis_mail", "purchase"],
    "data": [
        "security/equisis_mail_purchase_security.xml",
        "security/ir.model.access.csv",
        "data/equisis_letter_data.xml",
        "data/ir_actions_server_data.xml",
        "views/equisis_letter_views.xml",
    ],
    "installable": True,
    "auto_install": True,
}
