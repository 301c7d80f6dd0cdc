"""Side-by-side benchmark: equisis_mail against Odoo's own batch Print & Send.

Usage: ``python3 bench/bench.py [--sizes 50,200,500] [--runs 2]
[--cases pdf,send,history]`` (``make bench``: every case). Writes
``bench/RESULTS.md``, ``bench/PDF.md`` and ``bench/HISTORY.md``.

Odoo renders with a wkhtmltopdf with patched Qt, as in production (fetched
into ``.cache/wkhtmltopdf``, see ``tools/harness.py``), and Odoo's defaults:
up to 80 invoices per wkhtmltopdf call (``account.pdf_generation_batch``).

On a throwaway PostgreSQL cluster (the tests' harness), it makes one database
per size N with N posted customer invoices (5 lines each, customers in
English, French and Dutch, one in ten with an annex), then for each case and
run copies it afresh, starts an Odoo HTTP server on the copy (so that
wkhtmltopdf renders styled PDFs, as in production) and measures in an
``odoo shell`` against a local SMTP server that counts mails and connections:

- window: opening the send window (addon) / the batch Print & Send window
  (host) for the N invoices;
- fresh: sending all N until the SMTP server accepted every mail, PDFs to
  make; the host with its default ``report.print_delay`` and with it at 0
  ("host tuned");
- existing: the same when the PDFs already exist;
- queue_job (``--queue-job-sizes``): the addon's fresh and existing cases
  again with OCA's queue_job as its background engine.

Each figure is the median of the runs; the cases of one N take turns, run
after run, so that a slower spell of the machine weighs on both tools. Each
send case also reports the CPU time the machine spent on it (the shell, the
server and its processes, the wkhtmltopdf runs), and the floor it sets on
the cores.

First, on a database of its own with 80 invoices, it compares the PDFs
pixel by pixel (``bench/PDF.md``; ``--pdf-only`` does just that): invoices
rendered alone against the same invoices rendered inside a batch of 20 and
of 80, and one invoice sent by the addon against the host's Print & Send.

Last, the history case (``--cases history``, ``bench/HISTORY.md``): on a
database of 100,000 invoices copied by SQL with the e-mail statuses of the
addon's history test, the invoice list's "E-mail failed" filter, a count of
the sent invoices and the list's first page, as the web client asks for
them, against issue 25's limit of 0.1 s each.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import harness

ROOT = harness.ROOT
BENCH = ROOT / "bench"
SCRIPTS = BENCH / "scripts"
# The run measures one version of the addon: a copy taken when it starts.
ADDONS = BENCH / ".work" / "addons"
# Invoices of the PDF comparison's database: Odoo's default batch.
PDF_INVOICES = 80
CASES = ("pdf", "send", "history")
# With OCA's queue_job (issue 23): its path for Odoo, set by main.
QUEUE_JOB = {"path": None}
QUEUE_JOB_CHANNELS = "root:4,root.equisis_mail:2"
# The history case: its invoices, its repetitions, its limit (issue 25).
HISTORY_INVOICES = 100_000
HISTORY_REPEAT = 9
HISTORY_LIMIT_S = 0.1
# Odoo's environment: the patched wkhtmltopdf first on PATH (set by main).
ODOO_ENV = dict(os.environ)


def seconds_range(seconds):
    """``2.1 to 2.3 s``, or ``2.2 s`` when the times round alike."""
    low, high = f"{min(seconds):.1f}", f"{max(seconds):.1f}"
    return f"{low} s" if low == high else f"{low} to {high} s"


def odoo(odoo_bin, cluster, db, *args, subcommand=None, addons_path=None, **kwargs):
    kwargs.setdefault("env", ODOO_ENV)
    command = cluster.odoo_command(
        odoo_bin,
        db,
        BENCH / ".work" / "data",
        "--max-cron-threads",
        "0",
        *args,
        subcommand=subcommand,
        addons_path=addons_path or ADDONS,
    )
    return subprocess.run(command, check=True, **kwargs)


def shell(odoo_bin, cluster, db, script, env=None):
    """Run a script in ``odoo shell``; return the JSON it prints last."""
    with open(BENCH / ".work" / "scripts" / script) as stdin:
        result = odoo(
            odoo_bin,
            cluster,
            db,
            "--log-level",
            "warn",
            "--no-http",
            subcommand="shell",
            stdin=stdin,
            stdout=subprocess.PIPE,
            text=True,
            env={**ODOO_ENV, **(env or {})},
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def psql(cluster, *sql, database="postgres"):
    for statement in sql:
        result = cluster.psql(statement, database=database)
        if result.returncode:
            raise RuntimeError(result.stderr)


class HttpServer:
    """An Odoo server on a database copy: HTTP for styled PDFs, and the
    scheduled actions with Odoo's default cron threads (``cron_threads``
    None) or as many as given."""

    def __init__(
        self, odoo_bin, cluster, db, port, cron_threads=None, queue_job_path=None
    ):
        """``queue_job_path``: an addons path with OCA's queue_job, to run
        its job runner."""
        threads = (
            [] if cron_threads is None else ["--max-cron-threads", str(cron_threads)]
        )
        addons_path, env = ADDONS, {}
        if queue_job_path:
            # queue_job as its README and equisis_mail_queue_job's set it up:
            # its job runner, workers (Odoo's rule for 2 cores: 2 x 2 + 1),
            # two chunks at once.
            addons_path = queue_job_path
            threads += ["--workers", "5", "--load", "base,web,queue_job"]
            env["ODOO_QUEUE_JOB_CHANNELS"] = QUEUE_JOB_CHANNELS
        self.process = subprocess.Popen(
            cluster.odoo_command(
                odoo_bin,
                db,
                BENCH / ".work" / "data",
                "--http-port",
                str(port),
                "--http-interface",
                "127.0.0.1",
                *threads,
                "--log-level",
                "warn",
                addons_path=addons_path,
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # A scheduled action that stops with work left (Odoo's batch after
            # 10 runs of 10 invoices, a lane after 10 chunks) is called again
            # when a cron thread wakes up, up to a minute later; this Odoo
            # switch wakes them at once, for both: the figures compare the
            # work, not that wait.
            env={**ODOO_ENV, "ODOO_NOTIFY_CRON_CHANGES": "1", **env},
        )
        if harness.wait_http(f"http://127.0.0.1:{port}/web/login", 120) != 200:
            self.stop()
            raise RuntimeError("the Odoo HTTP server of the benchmark did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def run_case(
    odoo_bin, cluster, template, case, size, http_port, smtp_port, extra_env=None
):
    db = f"bench_run_{case}"
    psql(
        cluster,
        f'DROP DATABASE IF EXISTS "{db}"',
        f'CREATE DATABASE "{db}" TEMPLATE "{template}"',
    )
    # The copy's files (the company's logo, the annexes) are in the
    # template's filestore: Odoo keeps one folder per database name.
    filestore = BENCH / ".work" / "data" / "filestore"
    shutil.rmtree(filestore / db, ignore_errors=True)
    if (filestore / template).exists():
        shutil.copytree(filestore / template, filestore / db)
    if case.endswith("_tuned"):
        # Before the server starts: it caches the parameters.
        psql(
            cluster,
            "INSERT INTO ir_config_parameter (key, value) "
            "VALUES ('report.print_delay', '0') "
            "ON CONFLICT (key) DO UPDATE SET value = '0'",
            database=db,
        )
    # Odoo's addons path with OCA's queue_job, for that case.
    queue_job_path = (
        f"{ADDONS},{QUEUE_JOB['path']}" if case == "addon_queue_job" else None
    )
    if queue_job_path:
        odoo(
            odoo_bin,
            cluster,
            db,
            "--init",
            "equisis_mail_queue_job",
            "--stop-after-init",
            "--log-level",
            "warn",
            addons_path=queue_job_path,
        )
    # The PDF comparison and a profile run the scheduled actions in the
    # shell; the send cases leave them to the server's cron threads.
    inline = case == "pdf" or os.environ.get("BENCH_PROFILE")
    server = HttpServer(
        odoo_bin,
        cluster,
        db,
        http_port,
        cron_threads=0 if inline else None,
        queue_job_path=queue_job_path,
    )
    try:
        return shell(
            odoo_bin,
            cluster,
            db,
            "measure.py",
            env={
                "BENCH_CASE": case,
                "BENCH_N": str(size),
                "BENCH_SMTP_PORT": str(smtp_port),
                "BENCH_HTTP_PORT": str(http_port),
                "BENCH_SERVER_PID": str(server.process.pid),
                **(extra_env or {}),
            },
        )
    finally:
        server.stop()
        psql(cluster, f'DROP DATABASE IF EXISTS "{db}"')
        shutil.rmtree(filestore / db, ignore_errors=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def ratio(a, b):
    return None if a is None or not b else a / b


def machine():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wk = shutil.which("wkhtmltopdf", path=ODOO_ENV.get("PATH"))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {round(memory)} GiB, "
        f"{platform.platform()}, "
        f"{harness.wkhtmltopdf_version(wk) if wk else 'no wkhtmltopdf'}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,1000")
    parser.add_argument(
        "--lean-from",
        type=int,
        default=1000,
        help="from this size on, only the addon and the host tuned are "
        "measured (the pair of issue 23's ratios), to keep the run short",
    )
    parser.add_argument(
        "--window-sizes",
        default="500",
        help="sizes where only the send window is measured",
    )
    parser.add_argument(
        "--queue-job-sizes",
        default="50,200",
        help="sizes where the addon is also measured with OCA's queue_job "
        "(equisis_mail_queue_job) as its background engine",
    )
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"))
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help="the cases to run, among pdf (bench/PDF.md), send "
        "(bench/RESULTS.md) and history (bench/HISTORY.md)",
    )
    parser.add_argument(
        "--pdf-only",
        action="store_true",
        help="only compare the PDFs: alone against batched, addon against "
        "host (bench/PDF.md); the same as --cases pdf",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    cases = {"pdf"} if args.pdf_only else set(args.cases.split(","))
    if cases - set(CASES):
        parser.error(f"unknown cases: {', '.join(sorted(cases - set(CASES)))}")
    odoo_bin, why = harness.find_odoo()
    if not odoo_bin:
        sys.exit(f"The benchmark needs Odoo: {why}.")
    harness.ensure_debian_packages(["initdb", "wkhtmltopdf", "pdftoppm"])
    python = harness.odoo_python(odoo_bin)
    harness.ensure_odoo_python_packages(python)
    ODOO_ENV.update(harness.wkhtmltopdf_env(python)[0])
    (BENCH / ".work").mkdir(exist_ok=True)
    shutil.rmtree(ADDONS, ignore_errors=True)
    for addon in ("equisis_mail", "equisis_mail_queue_job"):
        shutil.copytree(
            ROOT / addon, ADDONS / addon, ignore=shutil.ignore_patterns("__pycache__")
        )
    queue_job_sizes = [int(size) for size in args.queue_job_sizes.split(",") if size]
    if queue_job_sizes:
        QUEUE_JOB["path"] = harness.queue_job_addons_path(python)
    shutil.rmtree(BENCH / ".work" / "scripts", ignore_errors=True)
    shutil.copytree(SCRIPTS, BENCH / ".work" / "scripts")
    http_port, smtp_port = harness.free_port(), harness.free_port()
    cluster = harness.PgCluster()
    rows = []
    history = None
    per_invoice = None
    started = time.time()
    try:
        cluster.start()
        harness.say("installing equisis_mail in the benchmark's base database")
        odoo(
            odoo_bin,
            cluster,
            "bench_base",
            "--init",
            "equisis_mail",
            "--stop-after-init",
            "--log-level",
            "warn",
        )
        if "pdf" in cases:
            template = populate(odoo_bin, cluster, PDF_INVOICES, http_port, smtp_port)
            harness.say("PDFs: alone against batched, addon against host")
            pdf = run_case(
                odoo_bin,
                cluster,
                template,
                "pdf",
                PDF_INVOICES,
                http_port,
                smtp_port,
                extra_env={"BENCH_PDF_DIR": str(BENCH / ".work" / "pdf")},
            )
            harness.say(f"  {json.dumps(pdf)}")
            write_pdf_report(BENCH / "PDF.md", pdf)
            batches = {batch["size"]: batch["cpu"] for batch in pdf["batches"]}
            # What one more invoice costs wkhtmltopdf inside a batch (CPU).
            per_invoice = (batches[80] - batches[20]) / 60
        window_sizes = [int(size) for size in args.window_sizes.split(",") if size]
        for size in sorted(sizes + window_sizes) if "send" in cases else ():
            template = populate(odoo_bin, cluster, size, http_port, smtp_port)
            results = {}
            if size in window_sizes and size not in sizes:
                size_cases = ("window",)
            elif size >= args.lean_from:
                size_cases = ("window", "addon", "host_tuned")
            else:
                size_cases = ("window", "addon", "addon_tuned", "host", "host_tuned")
            if size in queue_job_sizes and size in sizes and QUEUE_JOB["path"]:
                size_cases += ("addon_queue_job",)
            # Case after case, run after run: a slower spell of the machine
            # weighs on every case, not on one tool's runs.
            for run in range(args.runs):
                for case in size_cases:
                    harness.say(f"N={size}: {case}, run {run + 1}/{args.runs}")
                    result = run_case(
                        odoo_bin, cluster, template, case, size, http_port, smtp_port
                    )
                    harness.say(f"  {json.dumps(result)}")
                    results.setdefault(case, []).append(result)
            rows.extend(summarise(size, results, window_only=size_cases == ("window",)))
        if "history" in cases:
            history = run_history(odoo_bin, cluster)
    finally:
        cluster.stop()
    if "send" in cases:
        write_results(
            args.output,
            rows,
            args.runs,
            time.time() - started,
            per_invoice,
            args.lean_from,
        )
    if history:
        write_history(BENCH / "HISTORY.md", history)


def run_history(odoo_bin, cluster):
    """The invoice list on a database of HISTORY_INVOICES invoices: the
    JSON of ``history_measure.py``, with the time the copies took."""
    db = "bench_history"
    psql(
        cluster,
        f'DROP DATABASE IF EXISTS "{db}"',
        f'CREATE DATABASE "{db}" TEMPLATE "bench_base"',
    )
    try:
        harness.say(f"history: {HISTORY_INVOICES} invoices, copied by SQL")
        populated = shell(
            odoo_bin,
            cluster,
            db,
            "history_populate.py",
            env={"BENCH_N": str(HISTORY_INVOICES)},
        )
        harness.say(f"  {json.dumps(populated)}")
        # Statistics as autovacuum keeps them on a database in use.
        psql(cluster, "VACUUM ANALYZE account_move", database=db)
        harness.say("history: the invoice list's filter, count and page")
        result = shell(
            odoo_bin,
            cluster,
            db,
            "history_measure.py",
            env={"BENCH_REPEAT": str(HISTORY_REPEAT)},
        )
        harness.say(f"  {json.dumps(result)}")
    finally:
        psql(cluster, f'DROP DATABASE IF EXISTS "{db}"')
        shutil.rmtree(BENCH / ".work" / "data" / "filestore" / db, ignore_errors=True)
    return {**result, "insert_s": populated["insert_s"]}


def write_history(path, result):
    """Issue 25's figures: each request of the list against its limit."""
    rows = "".join(
        f"| {label} | {result[key]['median_s']:.3f} | {result[key]['min_s']:.3f} "
        f"| {result[key]['max_s']:.3f} | {result[key]['queries']} | {answer} "
        f"| {'within' if result[key]['median_s'] <= HISTORY_LIMIT_S else 'OVER'} |\n"
        for label, key, answer in (
            (
                '"E-mail failed" filter: first page (80 rows) and count',
                "failed_filter",
                f"{result['failed_filter']['answer']:,} invoices",
            ),
            (
                "count of the sent invoices",
                "sent_count",
                f"{result['sent_count']['answer']:,} invoices",
            ),
            (
                "list's first page (80 rows), default order, and count",
                "list_page",
                f"{result['list_page']['answer'] - 1:,}+ invoices",
            ),
        )
    )
    plans = "".join(
        f"- {label}: `{'`; `'.join(result[key]['plan'])}`\n"
        for label, key in (
            ('"E-mail failed" filter', "failed_filter"),
            ("list's first page", "list_page"),
        )
    )
    Path(path).write_text(
        "# The invoice list on a long e-mail history (issue 25)\n\n"
        "Produced by `make bench` (`bench/bench.py`; alone: "
        "`python3 bench/bench.py --cases history`), on a database with "
        f"equisis_mail installed and {result['invoices']:,} customer invoices: "
        "one posted through the ORM (5 lines), copied by SQL into the others "
        f"in {result['insert_s']:.0f} s (headers without lines, 30 customers, "
        "dated over ten years; `make_history` of "
        "`equisis_mail/tests/test_history.py`): a third sent, one in fifty "
        "failed, one in a hundred partly refused, the rest never mailed. "
        "Then `VACUUM ANALYZE`, as autovacuum would.\n\n"
        f"Machine: {machine()}; load average {result['load']:.1f} when the "
        "measures ended.\n\n"
        "Each request is the web client's, made in `odoo shell` as the "
        "administrator in the menu's context (`account.action_move_out_invoice_type`: "
        "its domain, its list view's "
        f"{result['fields']} fields, 80 rows, the default order, a count up to "
        "10,001), with the record cache emptied before each; the filter's "
        "domain is read from the search view. Seconds: median, fastest and "
        f"slowest of {result['repeat']} repetitions after 2 of warm-up; "
        'queries of one repetition. The search view has no "sent" filter: '
        "the count is `search_count` of the menu's domain and "
        "`equisis_mail_state = 'sent'`, what the list grouped by its e-mail "
        f"column counts. Limit: {HISTORY_LIMIT_S} s each.\n\n"
        "| request | median s | fastest s | slowest s | queries | answer "
        f"| {HISTORY_LIMIT_S} s |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n"
        f"{rows}\n"
        "Query plans of the page (`EXPLAIN`, scans only; the count of the "
        "filter reads the status's index):\n\n" + plans
    )


def populate(odoo_bin, cluster, size, http_port, smtp_port):
    """A template database with ``size`` posted invoices; its name."""
    template = f"bench_data_{size}"
    psql(
        cluster,
        f'DROP DATABASE IF EXISTS "{template}"',
        f'CREATE DATABASE "{template}" TEMPLATE "bench_base"',
    )
    harness.say(f"N={size}: creating the invoices")
    shell(
        odoo_bin,
        cluster,
        template,
        "populate.py",
        env={
            "BENCH_N": str(size),
            "BENCH_SMTP_PORT": str(smtp_port),
            "BENCH_HTTP_PORT": str(http_port),
        },
    )
    return template


def embedded(names):
    return ", ".join(f"`{name}`" for name in names) or "none"


def batch_rows(batches, bands):
    """The alone-against-batched table, and whether every page is equal."""
    rows, same = [], True
    for batch in batches:
        for invoice in batch["invoices"]:
            pages = invoice["pages"]
            equal = invoice["alone_pages"] == invoice["batch_pages"] and all(
                page["same_size"] and not any(page[band] for band, *_ in bands)
                for page in pages
            )
            same = same and equal
            differing = " | ".join(
                str(sum(page[band] for page in pages)) for band, *_ in bands
            )
            rows.append(
                f"| {batch['size']} | {invoice['position']} | {invoice['invoice']} "
                f"| {invoice['alone_pages']} / {invoice['batch_pages']} | {differing} "
                f"| {min(page['header_ink'] for page in pages) if pages else 0} "
                f"| {'identical' if equal else 'DIFFERENT'} |\n"
            )
    return "".join(rows), same


def print_delay_sentence(cost):
    """What Odoo's ``report.print_delay`` costs one wkhtmltopdf call."""
    waited = cost["default_s"] - cost["zero_s"]
    return (
        "The print delay: the first 20 invoices in one call took "
        f"{cost['zero_s']:.1f} s with `report.print_delay` at 0 and "
        f"{cost['default_s']:.1f} s at Odoo's default ({cost['delay_ms']} ms), "
        f"quickest of 2 runs each: each wkhtmltopdf call waits about "
        f"{waited:.1f} s, {waited / (cost['delay_ms'] / 1000 or 1):.1f} times "
        "the delay (wkhtmltopdf waits it for the pages, then again for their "
        "headers and footers). "
        + (
            f"Their PDFs are the same: {cost['pages']} pages, pixel for pixel."
            if not cost["differing"]
            else f"Their PDFs differ: {cost['differing']} pixels of "
            f"{cost['pages']} pages."
        )
    )


def write_pdf_report(path, result):
    """Whether PDFs made in a batch look like the one made alone, and the
    addon's PDF of one invoice like the host's."""
    batches = result["batches"]
    pdf = result["pdf"]
    rows, batched_same = batch_rows(batches, result["bands"])
    timing = ", ".join(
        f"{batch['size']} invoices in one call: {batch['seconds']:.1f} s "
        f"(wkhtmltopdf's CPU: {batch['cpu']:.1f} s)"
        for batch in batches
    )
    alone_seconds = [
        invoice["alone_seconds"] for batch in batches for invoice in batch["invoices"]
    ]
    same = pdf["addon_pages"] == pdf["host_pages"] and not any(
        pdf["differing_bytes_per_page"]
    )
    pixels = sum(pdf["page_bytes"]) or 1
    share = sum(pdf["differing_bytes_per_page"]) / pixels
    verdict = (
        "identical: same pages, every pixel equal"
        if same
        else f"different: {share:.2%} of the pixels differ"
    )
    missing = [
        name for name in pdf["host_embedded"] if name not in pdf["addon_embedded"]
    ]
    missing = (
        f"\nNot the same file: the host's PDF also embeds {embedded(missing)} "
        "(Odoo's e-invoicing post-processing of the legal PDF), the addon's "
        "does not.\n"
        if missing
        else ""
    )
    bands = ", ".join(
        f"{band} {round(top * 100)}-{round(bottom * 100)} %"
        for band, top, bottom in result["bands"]
    )
    Path(path).write_text(
        "# PDF: alone and in a batch; equisis_mail against Odoo's Print & Send\n\n"
        "Produced by `make bench` (`bench/bench.py`; alone: "
        "`python3 bench/bench.py --pdf-only`), on a database of "
        f"{PDF_INVOICES} posted invoices (5 lines each) with an Odoo HTTP server "
        "answering at `web.base.url`, so that wkhtmltopdf renders styled pages "
        "(logo, header, footer), with Odoo's defaults. Each page is rasterised "
        "at 72 dpi in grey by poppler's `pdftoppm` and compared pixel by pixel.\n\n"
        f"Machine: {machine()}.\n\n"
        "## Alone and in a batch\n\n"
        "With patched Qt, Odoo renders up to 80 invoices "
        "(`account.pdf_generation_batch`) in one wkhtmltopdf call and splits "
        "the result per invoice. Here the host's own step "
        "(`account.move.send._prepare_invoice_pdf_report`) renders the first "
        "20 invoices in one call, then the first 80 in one call, and each "
        "compared invoice again alone; the first, a middle and the last "
        "invoice of each batch are compared. Differing pixels are counted per "
        f"band of the page ({bands} of its height); `header ink` counts the "
        "non-white pixels of the alone PDF's header (the company's logo, "
        "Odoo's pale demo logo here, and its name and address).\n\n"
        "| batch | position | invoice | pages alone / batched "
        "| differing pixels: header | body | footer | header ink | pages |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        f"{rows}\n"
        + (
            "**Identical: every page of every compared invoice, pixel for "
            "pixel, logo, header and footer included.**"
            if batched_same
            else "**Different: see the rows marked DIFFERENT.**"
        )
        + f" Wall-clock times, indicative only (the PDF step of the host, "
        f"qweb included, on a machine that may be busy): {timing}; one invoice "
        f"alone: {seconds_range(alone_seconds)}.\n\n"
        f"{print_delay_sentence(result['print_delay'])}\n\n"
        "## equisis_mail against Odoo's batch Print & Send\n\n"
        f"One posted invoice ({pdf['invoice']}) is sent by the addon (its legal "
        "PDF) and by the host's batch Print & Send (its legal PDF, the invoice "
        "in a batch of all the database's invoices).\n\n"
        "| | addon | host |\n| --- | --- | --- |\n"
        f"| pages | {pdf['addon_pages']} | {pdf['host_pages']} |\n"
        f"| bytes | {pdf['addon_bytes']} | {pdf['host_bytes']} |\n"
        f"| embedded files | {embedded(pdf['addon_embedded'])} "
        f"| {embedded(pdf['host_embedded'])} |\n\n"
        f"Pages: **{verdict}** (differing bytes per page: "
        f"{pdf['differing_bytes_per_page']}).\n" + missing
    )


def summarise(size, results, window_only=False):
    def m(case, key):
        return median([r.get(key) for r in results.get(case, [])])

    rows = []
    kinds = (
        ("open window", "window_s", "host_window_s", None, None),
        ("send, fresh PDFs", "fresh_s", "send_s", "send_s", "fresh_mails"),
        (
            "send, existing PDFs",
            "existing_s",
            "existing_s",
            "existing_s",
            "existing_mails",
        ),
    )
    for label, addon_key, host_key, tuned_key, mails in (
        kinds[:1] if window_only else kinds
    ):
        addon = m("window" if addon_key == "window_s" else "addon", addon_key)
        host = m("window" if host_key == "host_window_s" else "host", host_key)
        tuned = m("host_tuned", tuned_key) if tuned_key else None
        addon_tuned = m("addon_tuned", addon_key) if tuned_key else None
        queries = m(
            "window" if addon_key == "window_s" else "addon",
            addon_key.replace("_s", "_queries"),
        )
        rows.append(
            {
                "N": size,
                "case": label,
                "addon": addon,
                "host": host,
                "ratio": ratio(addon, host),
                "tuned": tuned,
                "addon_tuned": addon_tuned,
                "ratio_tuned": ratio(addon_tuned, tuned),
                "ratio_mixed": ratio(addon, tuned),
                "queries_per_doc": ratio(queries, size),
                "rss": m(
                    "window" if addon_key == "window_s" else "addon", "peak_rss_mb"
                ),
                "smtp": m("addon", addon_key.replace("_s", "_connections"))
                if mails
                else None,
                "mails": m("addon", mails) if mails else None,
                "cpu": m("addon", addon_key.replace("_s", "_cpu")) if mails else None,
                "tuned_cpu": m("host_tuned", tuned_key.replace("_s", "_cpu"))
                if tuned_key
                else None,
                **{
                    f"{prefix}{part}_cpu": m(case, key.replace("_s", f"_{part}_cpu"))
                    if key and mails
                    else None
                    for prefix, case, key in (
                        ("", "addon", addon_key),
                        ("tuned_", "host_tuned", tuned_key),
                    )
                    for part in ("odoo", "wkhtmltopdf")
                },
                "queue_job": m("addon_queue_job", addon_key) if mails else None,
            }
        )
    return rows


def cpu_parts_table(rows):
    """Where the server's CPU time went, the addon's and the host tuned's:
    their own Python against wkhtmltopdf's."""
    sent = [row for row in rows if row.get("odoo_cpu") is not None]
    if not sent:
        return ""
    body = "".join(
        f"| {r['N']} | {r['case']} | {fmt(r['odoo_cpu'], 1)} "
        f"| {fmt(r['wkhtmltopdf_cpu'], 1)} "
        f"| {fmt(ratio(r['wkhtmltopdf_cpu'], r['N']), 3)} "
        f"| {fmt(r['tuned_odoo_cpu'], 1)} | {fmt(r['tuned_wkhtmltopdf_cpu'], 1)} "
        f"| {fmt(ratio(r['tuned_wkhtmltopdf_cpu'], r['N']), 3)} |\n"
        for r in sent
    )
    return (
        "\nWhere the Odoo server's CPU time went (the shell's aside): its "
        "Python (`odoo`) and the wkhtmltopdf runs it waited for. The addon "
        "renders up to 50 invoices in one wkhtmltopdf call, the host's batch "
        "10 (its runs of 10 invoices); wkhtmltopdf's CPU per invoice grows "
        "with the invoices of a call (compare the batches of 20 and 80 in "
        "[PDF.md](PDF.md)).\n\n"
        "| N | case | addon odoo CPU s | addon wkhtmltopdf CPU s "
        "| addon wkhtmltopdf CPU per invoice s | host tuned odoo CPU s "
        "| host tuned wkhtmltopdf CPU s | host tuned wkhtmltopdf CPU per invoice s |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + body
    )


def write_results(path, rows, runs, seconds, per_invoice=None, lean_from=1000):
    header = (
        "| N | case | addon s | host s | ratio | addon tuned s | host tuned s "
        "| ratio tuned | addon / host tuned | queries per document | peak RSS MB "
        "| SMTP connections | mails accepted | floor s | addon / floor "
        "| addon CPU s | host tuned CPU s | CPU floor s | CPU floor / host tuned "
        "| queue_job s | queue_job / host tuned |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )

    def cpu_floor(row):
        """The addon's CPU time on all the cores: no run of it is shorter."""
        return None if row["cpu"] is None else row["cpu"] / os.cpu_count()

    def floor(row):
        """wkhtmltopdf's own time for the fresh PDFs, on all the cores."""
        if per_invoice is None or row["case"] != "send, fresh PDFs":
            return None
        return row["N"] * per_invoice / os.cpu_count()

    body = "".join(
        f"| {r['N']} | {r['case']} | {fmt(r['addon'], 2)} | {fmt(r['host'], 2)} "
        f"| {fmt(r['ratio'], 2)} | {fmt(r['addon_tuned'], 2)} | {fmt(r['tuned'], 2)} "
        f"| {fmt(r['ratio_tuned'], 2)} | {fmt(r['ratio_mixed'], 2)} "
        f"| {fmt(r['queries_per_doc'], 1)} | {fmt(r['rss'], 0)} | {fmt(r['smtp'], 0)} "
        f"| {fmt(r['mails'], 0)} | {fmt(floor(r), 1)} "
        f"| {fmt(ratio(r['addon'], floor(r)), 1)} | {fmt(r['cpu'], 1)} "
        f"| {fmt(r['tuned_cpu'], 1)} | {fmt(cpu_floor(r), 1)} "
        f"| {fmt(ratio(cpu_floor(r), r['tuned']), 2)} | {fmt(r['queue_job'], 2)} "
        f"| {fmt(ratio(r['queue_job'], r['tuned']), 2)} |\n"
        for r in rows
    )
    table = header + body
    if per_invoice is not None:
        table += (
            f"\n`floor s` is wkhtmltopdf's own time for the N fresh PDFs, spread "
            f"over the {os.cpu_count()} cores: {per_invoice:.3f} s of CPU per "
            "invoice inside a batch (what one more invoice adds to wkhtmltopdf's "
            "CPU time between the batches of 20 and of 80 of [PDF.md](PDF.md)), "
            "times N, divided by the cores; "
            "`addon / floor` says how far the addon is from it. Neither this "
            "floor nor the CPU floor below counts the time each wkhtmltopdf "
            "call waits doing nothing at Odoo's default `report.print_delay` "
            "(about twice the delay, [PDF.md](PDF.md)), which the addon's "
            "calls wait and the host tuned's do not.\n"
        )
    table += (
        "\n`addon CPU s` and `host tuned CPU s` are the CPU time the send "
        "took on the machine, from the click to the last mail accepted: the "
        "shell that clicks (and runs the SMTP server), the Odoo server and its "
        "processes, and the wkhtmltopdf runs they waited for. `CPU floor s` is "
        f"the addon's CPU time over the {os.cpu_count()} cores: no run of the "
        "addon's work can be shorter on this machine, and `CPU floor / host "
        "tuned` is the ratio it would reach with every core busy all along.\n\n"
        "`queue_job s`: the addon with OCA's `queue_job` as its background "
        "engine (`equisis_mail_queue_job`), set up as its README says: "
        f"`--workers 5` (Odoo's rule for 2 cores), channels `{QUEUE_JOB_CHANNELS}`, "
        "the job runner loaded (`--load base,web,queue_job`).\n"
    )
    table += cpu_parts_table(rows)
    print(table)
    Path(path).write_text(
        "# Benchmark: equisis_mail against Odoo's batch Print & Send\n\n"
        f"Produced by `python3 bench/bench.py {' '.join(sys.argv[1:])}`, "
        f"median of {runs} runs (the cases of one N take turns, run after "
        f"run), {seconds / 60:.0f} minutes in all.\n\n"
        f"Machine: {machine()}.\n\n"
        "`ratio` is addon / host with Odoo's defaults (`report.print_delay` "
        "1000 ms); `ratio tuned` is addon / host with `report.print_delay` at 0 "
        "for both; `addon / host tuned` compares the addon at the default delay "
        "with the host at 0. Both send through the same local SMTP server, with "
        "a wkhtmltopdf with patched Qt and Odoo's default "
        "`account.pdf_generation_batch` (80 invoices per wkhtmltopdf call). For "
        "the window, `host s` is the host's batch Print & Send window.\n\n"
        "Both run as in production: the shell only clicks (the addon's send "
        "window, the host's batch Print & Send), and an Odoo server with "
        "Odoo's default settings (threaded, 2 cron threads) does the work in "
        "its scheduled actions; a figure is the time from the click to the "
        "SMTP server's acceptance of the last mail. Before each send case the "
        "server renders 3 draft invoices (one per language, not measured), "
        "as a running server has: compiled templates, loaded translations, "
        "the report's style sheets made. Only the scheduled actions that "
        "send are due (the others are postponed in both). Odoo's batch leaves "
        "its mails to its mail queue, which runs hourly: the shell has it run "
        "as soon as the batch is done. A scheduled action that stops with "
        "work left (Odoo's batch after 10 runs of 10 invoices, a lane after "
        "10 chunks) is called again when a cron thread wakes up, up to a "
        "minute later; the server runs with Odoo's `ODOO_NOTIFY_CRON_CHANGES` "
        "so that the threads wake at once, for both: the figures compare the "
        "work, not these waits.\n\n"
        "The addon makes invoice documents with the host's own pipeline "
        "(`account.move.send`: EDI, PDF, Factur-X, linking), the invoices of "
        "a chunk in one wkhtmltopdf call as the host does. Above 20 documents "
        "it sends in the background, where its two scheduled actions (lanes, "
        "`ir_cron_equisis_send` and `ir_cron_equisis_send_lane`) take chunks "
        "of the queue of their own, up to 50 documents, a queue shorter than "
        "two chunks shared between them; with 2 cron threads both run at "
        "once. For a longer queue the second lane starts with half a chunk, "
        "so that the lanes are out of step: one renders while the other "
        "waits for wkhtmltopdf. The host's batch runs in its one scheduled "
        "action, 10 invoices per run. `queries per document` counts the "
        "launching cursor only; "
        "`peak RSS MB` is the server's (VmHWM, of its largest process), where "
        f"the work is done. From N = {lean_from:,} only the addon and the host "
        "tuned are measured.\n\n"
        "The invoice list on 100,000 invoices (issue 25): "
        "[HISTORY.md](HISTORY.md).\n\n" + table
    )


if __name__ == "__main__":
    main()
