# Run inside `odoo shell` by bench/bench.py: N posted invoices to send.
# ruff: noqa: F821 - `env` is given by odoo shell
import base64
import os

N = int(os.environ["BENCH_N"])
SMTP_PORT = int(os.environ["BENCH_SMTP_PORT"])
HTTP_PORT = int(os.environ["BENCH_HTTP_PORT"])

for code in ("fr_BE", "nl_BE", "fr_FR", "nl_NL"):
    env["res.lang"]._activate_lang(code)
params = env["ir.config_parameter"].sudo()
params.set_param("web.base.url", f"http://127.0.0.1:{HTTP_PORT}")
params.set_param("web.base.url.freeze", "True")
# This wkhtmltopdf (unpatched Qt) renders one document per call.
params.set_param("account.pdf_generation_batch", "0")
env["ir.mail_server"].search([]).unlink()
env["ir.mail_server"].create(
    {
        "name": "Benchmark SMTP",
        "smtp_host": "127.0.0.1",
        "smtp_port": SMTP_PORT,
        "smtp_encryption": "none",
    }
)
env.company.email = "invoices@bench.example.com"
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
env.cr.commit()
print("{}")
