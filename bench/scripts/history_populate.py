# Run inside `odoo shell` by bench/bench.py: N posted invoices, of which all
# but one are copied by SQL, with the e-mail history of the addon's test.
# ruff: noqa: F821 - `env` is given by odoo shell
import json
import os
import time

from odoo.addons.equisis_mail.tests.test_history import make_history

N = int(os.environ["BENCH_N"])

partners = env["res.partner"].create(
    [
        {
            "name": f"Customer {i}",
            "email": f"customer{i}@bench.example.com",
            "is_company": True,
        }
        for i in range(30)
    ]
)
product = env["product.product"].create({"name": "Service", "list_price": 100})
seed = env["account.move"].create(
    {
        "move_type": "out_invoice",
        "partner_id": partners[0].id,
        "invoice_line_ids": [
            (
                0,
                0,
                {
                    "product_id": product.id,
                    "name": f"Line {j}",
                    "quantity": j + 1,
                    "price_unit": 10.0,
                },
            )
            for j in range(5)
        ],
    }
)
seed.action_post()
start = time.perf_counter()
make_history(seed, N - 1, partners)
env.cr.commit()
print(
    json.dumps(
        {
            "invoices": env["account.move"].search_count(
                [("move_type", "=", "out_invoice")]
            ),
            "insert_s": time.perf_counter() - start,
        }
    )
)
