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
from pathlib import Path

from aiosmtpd.controller import Controller

from odoo import SUPERUSER_ID, api

CASE = os.environ["BENCH_CASE"]
N = int(os.environ["BENCH_N"])
SMTP_PORT = int(os.environ["BENCH_SMTP_PORT"])


class Counter:
    received = 0
    connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        Counter.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        Counter.received += 1
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


def timed(function):
    env.invalidate_all()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    function()
    return time.perf_counter() - start, env.cr.sql_log_count - queries


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
    while env["equisis.mail.queue"].sudo().search_count([]):
        background_job()
        # A new snapshot, to see what the jobs committed.
        env.cr.commit()
        env.invalidate_all()
    flush_queue()
    return Counter.received - before


def host_send():
    before = Counter.received
    wizard = (
        env["account.move.send.batch.wizard"]
        .with_context(active_model="account.move", active_ids=moves.ids)
        .create({"move_ids": [(6, 0, moves.ids)]})
    )
    wizard.action_send_and_print()
    env.cr.commit()
    Move = env["account.move"]
    while Move.search_count([("sending_data", "!=", False)]):
        Move._cron_account_move_send(job_count=10)
        env.cr.commit()
    flush_queue()
    return Counter.received - before


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
    wkhtmltopdf call for them all, split per invoice; and the seconds."""
    Send = env["account.move.send"]
    invoices_data = {
        invoice: {"pdf_report": Send._get_default_pdf_report_id(invoice)}
        for invoice in invoices
    }
    start = time.perf_counter()
    Send._prepare_invoice_pdf_report(invoices_data)
    seconds = time.perf_counter() - start
    return {
        invoice.id: data["pdf_attachment_values"]["raw"]
        for invoice, data in invoices_data.items()
    }, seconds


def compare_batches():
    """Invoices rendered alone against the same invoices rendered inside a
    batch of 20 and of 80 (Odoo's default batch), page by page, pixel by
    pixel, band by band: the first, a middle and the last of each batch."""
    ordered = moves.sorted("id")
    folder_out = Path(os.environ["BENCH_PDF_DIR"])
    folder_out.mkdir(parents=True, exist_ok=True)
    batches = []
    with tempfile.TemporaryDirectory() as folder:
        for size in (20, 80):
            batch = ordered[:size]
            batched, seconds = render_invoices(batch)
            entry = {"size": size, "seconds": seconds, "invoices": []}
            for position in sorted({0, size // 2, size - 1}):
                invoice = batch[position]
                alone, alone_seconds = render_invoices(invoice)
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
    host_send()
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
    result["pdf"] = compare_pdfs()
elif CASE == "window":
    result["window_s"], result["window_queries"] = timed(open_addon_window)
    env.cr.rollback()
    result["host_window_s"], result["host_window_queries"] = timed(open_host_window)
    env.cr.rollback()
else:
    if CASE in ("host_tuned", "addon_tuned"):
        env["ir.config_parameter"].sudo().set_param("report.print_delay", "0")
        env.cr.commit()
    send = addon_send if CASE.startswith("addon") else host_send
    for phase in ("fresh", "existing"):
        connections = Counter.connections
        mails = {}
        profile = os.environ.get("BENCH_PROFILE")
        if profile and CASE.startswith("addon"):
            # Where the time goes (``BENCH_PROFILE=folder``): one file per
            # case and phase, for ``python3 -m pstats``.
            profiler = cProfile.Profile()
            profiler.enable()
        seconds, queries = timed(lambda mails=mails: mails.update(count=send()))
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
        result[f"{key}_mails"] = mails["count"]
        result[f"{key}_connections"] = Counter.connections - connections
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
controller.stop()
print(json.dumps(result))
