"""The demo's documents, made in an Odoo shell by ``tools/demo.py``.

A Belgian accountant's Monday: invoices and credit notes with structured
communication (the addon's demo data, ``equisis_mail/demo``), a few
quotations and requests for quotation, to customers and vendors writing
English, French (Belgium) and Dutch (Belgium). ``load(env)`` runs once, on
the database the first run makes; it mails nothing.
"""

from datetime import timedelta

from odoo import Command, fields
from odoo.tools.convert import convert_file


def _partner(env, name, lang, email, **values):
    return env["res.partner"].create(
        {"name": name, "is_company": True, "lang": lang, "email": email, **values}
    )


def _sale_orders(env, product, products):
    """Quotations to the demo's customers; one confirmed order."""
    customers = [
        env.ref("equisis_mail.partner_dupont"),
        env.ref("equisis_mail.partner_janssens"),
        env.ref("equisis_mail.partner_smith"),
        env.ref("equisis_mail.partner_martin"),
    ]
    orders = env["sale.order"]
    for index, customer in enumerate(customers):
        orders |= env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": 4 + index * 2,
                        }
                    ),
                    Command.create({"product_id": products[index % len(products)].id}),
                ],
            }
        )
    orders[-1].action_confirm()
    return orders


def _purchase_orders(env, products):
    """Requests for quotation to vendors in the three languages."""
    vendors = [
        _partner(
            env,
            "Papeterie Lambert SA",
            "fr_BE",
            "commandes@lambert.example.be",
            country_id=env.ref("base.be").id,
            city="Liège",
        ),
        _partner(
            env,
            "Drukkerij De Smet BV",
            "nl_BE",
            "verkoop@desmet.example.be",
            country_id=env.ref("base.be").id,
            city="Antwerpen",
        ),
        _partner(
            env,
            "Office Supplies Ltd",
            "en_US",
            "sales@officesupplies.example.com",
            country_id=env.ref("base.uk").id,
            city="Manchester",
        ),
    ]
    orders = env["purchase.order"]
    for index, vendor in enumerate(vendors):
        orders |= env["purchase.order"].create(
            {
                "partner_id": vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": products[index % len(products)].id,
                            "product_qty": 10 * (index + 1),
                            "price_unit": 12.5 + index,
                            "date_planned": fields.Datetime.now() + timedelta(days=7),
                        }
                    )
                ],
            }
        )
    return orders


def load(env):
    company = env.ref("base.main_company")
    # Belgian structured communication (+++000/0000/00000+++) on invoices.
    env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "sale")]
    ).invoice_reference_model = "be"
    admin = env.ref("base.user_admin")
    admin.signature = (
        "<p>Alex Admin<br/>Accounting – Equisis Demo SRL<br/>+32 2 123 45 67</p>"
    )
    convert_file(
        env,
        "equisis_mail",
        "demo/equisis_mail_demo.xml",
        {},
        mode="init",
        noupdate=True,
    )
    Product = env["product.product"]
    service = Product.create(
        {"name": "Bookkeeping hour", "type": "service", "list_price": 85.0}
    )
    goods = Product.create(
        [
            {"name": "Archive box", "type": "consu", "list_price": 6.5},
            {"name": "Ledger binder", "type": "consu", "list_price": 14.0},
            {"name": "Invoice paper (500 sheets)", "type": "consu", "list_price": 9.9},
        ]
    )
    goods.write({"purchase_ok": True})
    _sale_orders(env, service, goods)
    _purchase_orders(env, goods)
    env["ir.config_parameter"].set_param("equisis_mail.demo_ready", "1")
