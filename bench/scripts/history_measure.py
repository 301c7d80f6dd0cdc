# Run inside `odoo shell` by bench/bench.py: the invoice list on a long
# history, as the web client asks for it, each request in a fresh cache.
# ruff: noqa: F821 - `env` is given by odoo shell
import json
import os
import statistics
import time

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.equisis_mail.tests.test_history import (
    invoice_list,
    list_specification,
    search_filter,
)

REPEAT = int(os.environ.get("BENCH_REPEAT", "9"))
WARMUP = 2
# The web client's list counts up to this many records, then shows "10000+".
COUNT_LIMIT = 10001

admin = env.ref("base.user_admin")
Move, action_domain, views = invoice_list(env(user=admin, context=admin.context_get()))
cr = Move.env.cr
specification = list_specification(views)
failed = action_domain & search_filter(views, "equisis_mail_failed", Move.env)
# No "sent" filter in the search view: the domain of the grouped column.
sent = action_domain & Domain("equisis_mail_state", "=", "sent")

cases = {
    "failed_filter": lambda: Move.web_search_read(
        failed, specification, limit=80, count_limit=COUNT_LIMIT
    ),
    "sent_count": lambda: Move.search_count(sent),
    "list_page": lambda: Move.web_search_read(
        action_domain, specification, limit=80, count_limit=COUNT_LIMIT
    ),
}


def timed(call):
    """Seconds and queries of one request, with an empty record cache as
    each request of the web client starts."""
    Move.env.invalidate_all()
    queries = cr.sql_log_count
    start = time.perf_counter()
    answer = call()
    return time.perf_counter() - start, cr.sql_log_count - queries, answer


def plan(domain):
    """The scans of the query of a list page with ``domain``."""
    query = Move._search(domain, limit=80, order=Move._order)
    cr.execute(SQL("EXPLAIN %s", query.select()))
    return [
        row[0].strip().removeprefix("->").split("  (cost=")[0].strip()
        for row in cr.fetchall()
        if "Scan" in row[0]
    ]


result = {
    "invoices": Move.search_count(action_domain),
    "fields": len(specification),
    "repeat": REPEAT,
}
for name, call in cases.items():
    for _index in range(WARMUP):
        timed(call)
    runs = [timed(call) for _index in range(REPEAT)]
    seconds = [run[0] for run in runs]
    answer = runs[-1][2]
    result[name] = {
        "median_s": statistics.median(seconds),
        "min_s": min(seconds),
        "max_s": max(seconds),
        "queries": runs[-1][1],
        "answer": answer if isinstance(answer, int) else answer["length"],
        "rows": None if isinstance(answer, int) else len(answer["records"]),
    }
result["failed_filter"]["plan"] = plan(failed)
# The machine may be shared: its load when the measures ended.
result["load"] = os.getloadavg()[0]
result["list_page"]["plan"] = plan(action_domain)
print(json.dumps(result))
