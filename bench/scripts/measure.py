# Run inside `odoo shell` by bench/bench.py: one case on a fresh database copy.
# ruff: noqa: F821 - `env` is given by odoo shell
import cProfile
import json
import os
import re
import resource
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from aiosmtpd.controller import Controller

from odoo import SUPERUSER_ID, api

CASE = os.environ["BENCH_CASE"]
N = int(os.environ["BENCH_N"])
SMTP_PORT = int(os.environ["BENCH_SMTP_PORT"])


class Counter:
    received = 0
    connections = 0
    # When the last mail was accepted (time.perf_counter()).
    last = 0.0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        Counter.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        Counter.received += 1
        Counter.last = time.perf_counter()
        return "250 OK"


# Send as the administrator, a user with an address, as a person would.
env = env(user=env.ref("base.user_admin").id)
controller = Controller(Counter(), hostname="127.0.0.1", port=SMTP_PORT)
controller.start()
moves = env["account.move"].search(
    [("move_type", "=", "out_invoice"), ("state", "=", "posted")]
)
assert len(moves) == N, (len(moves), N)
result = {}
# The Odoo server beside this shell runs the scheduled actions with Odoo's
# default two cron threads; with BENCH_PROFILE, it runs none and this shell
# runs the addon's, one run after the other, to profile them.
PROFILE = os.environ.get("BENCH_PROFILE")
SERVER_PID = os.environ.get("BENCH_SERVER_PID")
TIMEOUT = 3600


def warm_up():
    """Have the server render the draft invoices, one per language, as a
    running server has rendered invoices before: its templates compiled,
    its translations loaded, the report's style sheets made. The same for
    Odoo and for the addon; not measured."""
    drafts = env["account.move"].search(
        [("move_type", "=", "out_invoice"), ("state", "=", "draft")]
    )
    base = f"http://127.0.0.1:{os.environ['BENCH_HTTP_PORT']}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    login = json.dumps(
        {
            "jsonrpc": "2.0",
            "params": {"db": env.cr.dbname, "login": "admin", "password": "admin"},
        }
    ).encode()
    opener.open(
        urllib.request.Request(
            f"{base}/web/session/authenticate",
            data=login,
            headers={"Content-Type": "application/json"},
        ),
        timeout=300,
    ).read()
    ids = ",".join(str(i) for i in drafts.ids)
    pdf = opener.open(
        f"{base}/report/pdf/account.report_invoice/{ids}", timeout=300
    ).read()
    assert pdf.startswith(b"%PDF"), pdf[:200]


# This cursor's query count when the click is done (before the waiting).
clicked = {}


def timed(function):
    """Seconds from the call to the end the function returns (the last
    mail accepted, for a send), the queries of this cursor for the click
    itself, and the CPU seconds all took meanwhile."""
    env.invalidate_all()
    clicked.clear()
    queries = env.cr.sql_log_count
    cpu, parts = cpu_seconds(), server_cpu_parts()
    start = time.perf_counter()
    end = function() or time.perf_counter()
    seconds = end - start
    used = cpu_seconds() - cpu
    last_parts.update(
        {part: ticks - parts[part] for part, ticks in server_cpu_parts().items()}
    )
    return seconds, clicked.get("queries", env.cr.sql_log_count) - queries, used


TICKS = os.sysconf("SC_CLK_TCK")

# The server's CPU seconds of the last timed call, by kind of process.
last_parts = {}


def cpu_seconds():
    """The CPU time used so far by this shell (the click), the Odoo server
    and its processes (cron workers, HTTP workers), and the programs they
    ran and waited for (wkhtmltopdf): what both cores did for the send."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + sum(server_processes().values()) / TICKS


def server_peak_rss_mb():
    """The peak memory of the Odoo server that did the work (VmHWM), of
    its largest process when it runs workers."""
    peaks = [0]
    for pid in server_processes():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks += [
            int(line.split()[1]) / 1024
            for line in status.splitlines()
            if line.startswith("VmHWM:")
        ]
    return max(peaks) or None


def server_processes():
    """The Odoo server's process and its descendants (its workers, the
    programs they run): {pid: the CPU ticks it and its waited-for children
    used}."""
    if not SERVER_PID:
        return {}
    parents, ticks = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        # utime, stime, and the same of the children it waited for
        ticks[pid] = sum(int(value) for value in fields[11:15])
    tree, todo = {}, [int(SERVER_PID)]
    while todo:
        pid = todo.pop()
        tree[pid] = ticks.get(pid, 0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return tree


def server_cpu_parts():
    """The Odoo server's CPU seconds so far, by who spent them: its own
    Python processes (``odoo``) and the programs they ran (``wkhtmltopdf``,
    running or waited for). A worker that exited and was waited for counts
    with the programs: only the threaded server's split is exact."""
    parts = {"odoo": 0, "wkhtmltopdf": 0}
    for pid in server_processes():
        try:
            name, stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = stat.split()
        own, waited = fields[11:13], fields[13:15]
        program = "wkhtmltopdf" if "wkhtmltopdf" in name else "odoo"
        parts[program] += sum(int(value) for value in own)
        parts["wkhtmltopdf"] += sum(int(value) for value in waited)
    return {part: ticks / TICKS for part, ticks in parts.items()}


def wait_for_mails(before, expected):
    """Wait until the SMTP server accepted ``expected`` mails more than
    ``before``; return when it accepted the last one."""
    deadline = time.monotonic() + TIMEOUT
    while Counter.received - before < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{Counter.received - before} of {expected} mails")
        time.sleep(0.05)
    return Counter.last


def settle(*counts):
    """Wait until the background work is over (nothing queued, nothing
    outgoing, every outcome recorded), outside the measured time."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        env.cr.rollback()
        env.invalidate_all()
        if not any(count() for count in counts):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the background work did not end")
        time.sleep(0.05)


def open_addon_window():
    action = moves.action_equisis_open_send_wizard()
    wizard = env["equisis.mail.send"].browse(action["res_id"])
    wizard.read(["print_form_id", "letter_id", "bcc_confirmation", "problem_count"])
    wizard.line_ids.read(
        [
            "move_id",
            "partner_id",
            "email_to",
            "letter_id",
            "subject",
            "attachment_count",
            "problem",
        ]
    )


def open_host_window():
    wizard = (
        env["account.move.send.batch.wizard"]
        .with_context(active_model="account.move", active_ids=moves.ids)
        .create({"move_ids": [(6, 0, moves.ids)]})
    )
    wizard.read(["summary_data", "alerts"])


def background_job():
    """The addon's scheduled action, as Odoo's cron runs it: one at a time."""
    with env.registry.cursor() as cr:
        api.Environment(cr, SUPERUSER_ID, {})["equisis.mail.service"]._cron_send()


def addon_send():
    before = Counter.received
    action = moves.action_equisis_open_send_wizard()
    wizard = env["equisis.mail.send"].browse(action["res_id"])
    # The "existing PDFs" case mails the same invoices again, deliberately.
    wizard.resend_confirmed = True
    wizard.action_send()
    env.cr.commit()
    clicked["queries"] = env.cr.sql_log_count
    if PROFILE:
        while env["equisis.mail.queue"].sudo().search_count([]):
            background_job()
            # A new snapshot, to see what the jobs committed.
            env.cr.commit()
            env.invalidate_all()
        flush_queue()
    end = wait_for_mails(before, N)
    Mail = env["mail.mail"].sudo()
    settle(
        lambda: env["equisis.mail.queue"].sudo().search_count([]),
        lambda: Mail.search_count([("state", "=", "outgoing")]),
        lambda: Mail.search_count(
            [("equisis_model", "!=", False), ("equisis_reported", "=", False)]
        ),
    )
    return end


def host_click():
    """Send the invoices with the host's batch Print & Send."""
    wizard = (
        env["account.move.send.batch.wizard"]
        .with_context(active_model="account.move", active_ids=moves.ids)
        .create({"move_ids": [(6, 0, moves.ids)]})
    )
    wizard.action_send_and_print()
    env.cr.commit()


def host_send():
    before = Counter.received
    host_click()
    clicked["queries"] = env.cr.sql_log_count
    # The batch leaves its mails to Odoo's mail queue, which runs hourly:
    # it is run as soon as the batch is done, as if it ran then.
    settle(lambda: env["account.move"].search_count([("sending_data", "!=", False)]))
    env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
    env.cr.commit()
    end = wait_for_mails(before, N)
    settle(
        lambda: env["account.move"].search_count([("sending_data", "!=", False)]),
        lambda: env["mail.mail"].sudo().search_count([("state", "=", "outgoing")]),
    )
    return end


def host_send_inline():
    """The host's batch, its scheduled action run by this shell (for the
    PDF comparison, where no cron thread runs)."""
    host_click()
    Move = env["account.move"]
    while Move.search_count([("sending_data", "!=", False)]):
        Move._cron_account_move_send(job_count=10)
        env.cr.commit()
    flush_queue()


def flush_queue():
    Mail = env["mail.mail"]
    while Mail.search_count([("state", "=", "outgoing")]):
        Mail.process_email_queue()
        env.cr.commit()


def pages(pdf, folder, name):
    """The PDF's pages as 72 dpi grey pixels, by poppler's pdftoppm."""
    path = Path(folder) / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "72", "-gray", str(path), str(Path(folder) / name)],
        check=True,
    )
    return [page.read_bytes() for page in sorted(Path(folder).glob(f"{name}-*.pgm"))]


def embedded_files(pdf, folder, name):
    """Names of the files embedded in the PDF (e-invoicing XML, say)."""
    path = Path(folder) / f"{name}-embedded.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        ["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [line.split(": ", 1)[1] for line in listing[1:] if ": " in line]


def grey_pages(pdf, folder, name):
    """The PDF's pages as (width, height, pixels), 72 dpi grey (pdftoppm)."""
    result = []
    for page in pages(pdf, folder, name):
        header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", page)
        result.append((int(header[1]), int(header[2]), page[header.end() :]))
    return result


# The page bands compared apart: the header (logo, company), the body, the
# footer (company details, page number), in share of the page's height.
BANDS = (("header", 0.0, 0.16), ("body", 0.16, 0.88), ("footer", 0.88, 1.0))


def compare_pages(alone, batched):
    """Differing pixels per band of each page, and the ink of the alone
    PDF's header (its non-white pixels: the logo, pale, and the company)."""
    result = []
    for (width, height, mine), (width2, height2, theirs) in zip(
        alone, batched, strict=False
    ):
        page = {
            "size": [width, height],
            "same_size": (width, height) == (width2, height2),
        }
        for band, top, bottom in BANDS:
            start, end = int(height * top) * width, int(height * bottom) * width
            page[band] = sum(
                a != b for a, b in zip(mine[start:end], theirs[start:end], strict=False)
            )
        start, end = 0, int(height * BANDS[0][2]) * width
        page["header_ink"] = sum(pixel < 250 for pixel in mine[start:end])
        result.append(page)
    return result


def render_invoices(invoices):
    """The invoices' legal PDFs as the host's pipeline renders them: one
    wkhtmltopdf call for them all, split per invoice; the seconds, and the
    CPU seconds of the programs it ran (wkhtmltopdf)."""
    Send = env["account.move.send"]
    invoices_data = {
        invoice: {"pdf_report": Send._get_default_pdf_report_id(invoice)}
        for invoice in invoices
    }
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    Send._prepare_invoice_pdf_report(invoices_data)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return (
        {
            invoice.id: data["pdf_attachment_values"]["raw"]
            for invoice, data in invoices_data.items()
        },
        seconds,
        cpu,
    )


def compare_batches():
    """Invoices rendered alone against the same invoices rendered inside a
    batch of 20 and of 80 (Odoo's default batch), page by page, pixel by
    pixel, band by band: the first, a middle and the last of each batch."""
    ordered = moves.sorted("id")
    folder_out = Path(os.environ["BENCH_PDF_DIR"])
    folder_out.mkdir(parents=True, exist_ok=True)
    batches = []
    # Not timed: the first render compiles the templates and makes the
    # report's style sheets.
    render_invoices(ordered[:2])
    with tempfile.TemporaryDirectory() as folder:
        for size in (20, 80):
            batch = ordered[:size]
            batched, seconds, cpu = render_invoices(batch)
            entry = {"size": size, "seconds": seconds, "cpu": cpu, "invoices": []}
            for position in sorted({0, size // 2, size - 1}):
                invoice = batch[position]
                alone, alone_seconds, _cpu = render_invoices(invoice)
                tag = f"{size}-{position + 1}"
                alone_pages = grey_pages(alone[invoice.id], folder, f"alone-{tag}")
                batch_pages = grey_pages(batched[invoice.id], folder, f"batch-{tag}")
                (folder_out / f"alone-{tag}.pdf").write_bytes(alone[invoice.id])
                (folder_out / f"batch-{tag}.pdf").write_bytes(batched[invoice.id])
                entry["invoices"].append(
                    {
                        "invoice": invoice.name,
                        "position": position + 1,
                        "alone_seconds": alone_seconds,
                        "alone_pages": len(alone_pages),
                        "batch_pages": len(batch_pages),
                        "pages": compare_pages(alone_pages, batch_pages),
                    }
                )
            batches.append(entry)
    return batches


def print_delay_cost(runs=2):
    """The first 20 invoices rendered in one call at Odoo's default
    ``report.print_delay`` and with it at 0, in turns: the quickest time of
    each, and their PDFs compared page by page, pixel by pixel.

    :return: {"delay_ms", "default_s", "zero_s", "pages", "differing"}
    """
    Param = env["ir.config_parameter"].sudo()
    batch = moves.sorted("id")[:20]
    default = Param.get_param("report.print_delay", "1000")
    times = {"default_s": [], "zero_s": []}
    pdfs = {}
    try:
        for _run in range(runs):
            for key, delay in (("default_s", default), ("zero_s", "0")):
                Param.set_param("report.print_delay", delay)
                pdfs[key], seconds, _cpu = render_invoices(batch)
                times[key].append(seconds)
    finally:
        Param.set_param("report.print_delay", default)
    env.cr.rollback()
    result = {"delay_ms": int(default), "pages": 0, "differing": 0}
    result |= {key: min(value) for key, value in times.items()}
    with tempfile.TemporaryDirectory() as folder:
        for invoice in batch:
            compared = compare_pages(
                grey_pages(pdfs["default_s"][invoice.id], folder, f"d-{invoice.id}"),
                grey_pages(pdfs["zero_s"][invoice.id], folder, f"z-{invoice.id}"),
            )
            result["pages"] += len(compared)
            result["differing"] += sum(
                page[band] for page in compared for band, *_ in BANDS
            ) + sum(not page["same_size"] for page in compared)
    return result


def compare_pdfs():
    """One invoice's legal PDF as the addon's send stores it and as the
    host's batch Print & Send stores it, compared page by page, pixel by
    pixel, with the files embedded in each."""
    move = moves.sorted("id")[0]
    action = move.action_equisis_open_send_wizard()
    env["equisis.mail.send"].browse(action["res_id"]).action_send()
    env.cr.commit()
    flush_queue()
    move.invalidate_recordset()
    addon_pdf = move.invoice_pdf_report_id.raw
    # The host never remakes an existing legal PDF: remove ours first.
    move.invoice_pdf_report_id.sudo().unlink()
    move.ubl_cii_xml_id.sudo().unlink()
    env.cr.commit()
    # The batch wizard takes several invoices (the host fails on one alone).
    host_send_inline()
    move.invalidate_recordset()
    host_pdf = move.invoice_pdf_report_id.raw
    with tempfile.TemporaryDirectory() as folder:
        addon_pages = pages(addon_pdf, folder, "addon")
        host_pages = pages(host_pdf, folder, "host")
        addon_embedded = embedded_files(addon_pdf, folder, "addon")
        host_embedded = embedded_files(host_pdf, folder, "host")
        Path(os.environ["BENCH_PDF_DIR"]).mkdir(parents=True, exist_ok=True)
        for name, pdf in (("addon", addon_pdf), ("host", host_pdf)):
            (Path(os.environ["BENCH_PDF_DIR"]) / f"{name}.pdf").write_bytes(pdf)
    differing = [
        sum(a != b for a, b in zip(mine, theirs, strict=False))
        + abs(len(mine) - len(theirs))
        for mine, theirs in zip(addon_pages, host_pages, strict=False)
    ]
    return {
        "invoice": move.name,
        "addon_bytes": len(addon_pdf),
        "host_bytes": len(host_pdf),
        "addon_pages": len(addon_pages),
        "host_pages": len(host_pages),
        "differing_bytes_per_page": differing,
        "page_bytes": [len(page) for page in host_pages],
        "addon_embedded": addon_embedded,
        "host_embedded": host_embedded,
    }


if CASE == "pdf":
    result["bands"] = BANDS
    result["batches"] = compare_batches()
    result["print_delay"] = print_delay_cost()
    result["pdf"] = compare_pdfs()
elif CASE == "window":
    result["window_s"], result["window_queries"], _cpu = timed(open_addon_window)
    env.cr.rollback()
    result["host_window_s"], result["host_window_queries"], _cpu = timed(
        open_host_window
    )
    env.cr.rollback()
else:
    warm_up()
    if CASE in ("host_tuned", "addon_tuned"):
        env["ir.config_parameter"].sudo().set_param("report.print_delay", "0")
        env.cr.commit()
    send = addon_send if CASE.startswith("addon") else host_send
    for phase in ("fresh", "existing"):
        connections = Counter.connections
        mails = {}
        profile = PROFILE
        if profile and CASE.startswith("addon"):
            # Where the time goes (``BENCH_PROFILE=folder``): one file per
            # case and phase, for ``python3 -m pstats``.
            profiler = cProfile.Profile()
            profiler.enable()
        before = Counter.received
        seconds, queries, cpu = timed(send)
        mails["count"] = Counter.received - before
        if profile and CASE.startswith("addon"):
            profiler.disable()
            profiler.dump_stats(Path(profile) / f"{CASE}-{phase}-{N}.prof")
        key = (
            phase
            if CASE.startswith("addon")
            else ("send" if phase == "fresh" else "existing")
        )
        result[f"{key}_s"] = seconds
        result[f"{key}_queries"] = queries
        result[f"{key}_cpu"] = cpu
        result[f"{key}_odoo_cpu"] = last_parts["odoo"]
        result[f"{key}_wkhtmltopdf_cpu"] = last_parts["wkhtmltopdf"]
        result[f"{key}_mails"] = mails["count"]
        result[f"{key}_connections"] = Counter.connections - connections
result["peak_rss_mb"] = server_peak_rss_mb() or (
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
)
controller.stop()
print(json.dumps(result))
