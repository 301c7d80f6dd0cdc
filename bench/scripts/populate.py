# Run inside `odoo shell` by bench/bench.py: N posted invoices to send.
# ruff: noqa: F821 - `env` is given by odoo shell
import base64
import datetime
import os

from odoo.tools import file_open

N = int(os.environ["BENCH_N"])
SMTP_PORT = int(os.environ["BENCH_SMTP_PORT"])
HTTP_PORT = int(os.environ["BENCH_HTTP_PORT"])

for code in ("fr_BE", "nl_BE", "fr_FR", "nl_NL"):
    env["res.lang"]._activate_lang(code)
params = env["ir.config_parameter"].sudo()
params.set_param("web.base.url", f"http://127.0.0.1:{HTTP_PORT}")
params.set_param("web.base.url.freeze", "True")
env["ir.mail_server"].search([]).unlink()
env["ir.mail_server"].create(
    {
        "name": "Benchmark SMTP",
        "smtp_host": "127.0.0.1",
        "smtp_port": SMTP_PORT,
        "smtp_encryption": "none",
    }
)
# A logo, a header and a footer with something in them, as a real company's.
with file_open("base/static/img/demo_logo_report.png", "rb") as logo:
    logo_data = base64.b64encode(logo.read())
env.company.write(
    {
        "logo": logo_data,
        "report_footer": "<p>Bench Company SRL, BE0477472701, "
        "IBAN BE71 0961 2345 6769</p>",
        "email": "invoices@bench.example.com",
        "phone": "+32 2 555 01 23",
        "website": "https://bench.example.com",
        "street": "Rue de la Loi 16",
        "zip": "1000",
        "city": "Bruxelles",
    }
)
env.ref("base.user_admin").email = "admin@bench.example.com"
langs = ["en_US", "fr_BE", "nl_BE"]
partners = env["res.partner"].create(
    [
        {
            "name": f"Customer {i}",
            "email": f"customer{i}@bench.example.com",
            "lang": langs[i % 3],
            "is_company": True,
        }
        for i in range(30)
    ]
)
product = env["product.product"].create({"name": "Service", "list_price": 100})
moves = env["account.move"].create(
    [
        {
            "move_type": "out_invoice",
            "partner_id": partners[i % len(partners)].id,
            "invoice_line_ids": [
                (
                    0,
                    0,
                    {
                        "product_id": product.id,
                        "name": f"Line {j}",
                        "quantity": j + 1,
                        "price_unit": 10.0 * (i % 7 + 1),
                    },
                )
                for j in range(5)
            ],
        }
        for i in range(N)
    ]
)
moves.action_post()
# Drafts that are not measured: each case's server renders them first, one
# per language, as a running server has rendered invoices before.
env["account.move"].create(
    [
        {
            "move_type": "out_invoice",
            "partner_id": partners[i].id,
            "invoice_line_ids": [(0, 0, {"product_id": product.id, "name": "Warm-up"})],
        }
        for i in range(3)
    ]
)
env["ir.attachment"].create(
    [
        {
            "name": f"annex-{move.name.replace('/', '-')}.txt",
            "datas": base64.b64encode(b"Annex of the invoice"),
            "mimetype": "text/plain",
            "res_model": "account.move",
            "res_id": move.id,
        }
        for move in moves[::10]
    ]
)
# Odoo's cron threads run beside the measures: only the scheduled actions
# that send (the host's, its mail queue, the addon's) are due; the others
# (auto-vacuum, digests...) wait until tomorrow, so that they do not run
# in the middle of one case and not another.
sending = [
    env.ref(xmlid).id
    for xmlid in (
        "account.ir_cron_account_move_send",
        "mail.ir_cron_mail_scheduler_action",
        "equisis_mail.ir_cron_equisis_send",
        "equisis_mail.ir_cron_equisis_send_lane",
    )
]
tomorrow = env.cr.now() + datetime.timedelta(days=1)
env["ir.cron"].search([("id", "not in", sending)]).write({"nextcall": tomorrow})
env["ir.cron.trigger"].search([]).unlink()
env.cr.commit()
print("{}")
