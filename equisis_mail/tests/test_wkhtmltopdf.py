# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Several invoices mailed at once get one PDF each, their own, with either
wkhtmltopdf build.

With patched Qt (production's build, and ``make test``'s), the host renders
the invoices of a send in one wkhtmltopdf call and splits the result. Without
it (Debian's), wkhtmltopdf renders one document per call and the host would
refuse a batch: the addon then asks for one invoice per call.

``test_one_per_call_without_patched_qt`` needs a wkhtmltopdf without patched
Qt first on Odoo's PATH. ``tools/test.py`` runs it so in a second Odoo run
on the suite's database, with the system's wkhtmltopdf and
``EQUISIS_TEST_WKHTMLTOPDF=unpatched`` (which makes it fail, not skip, when
the build found has patched Qt); the first run, with the patched build,
skips it.
"""

import os
import re
import shutil
import subprocess
from unittest.mock import patch

from odoo.tests import tagged

from ..models.account_move_send import wkhtmltopdf_renders_batches
from ..models.equisis_mail_service import CHUNK_PARAM
from .common import EquisisSendCase

INVOICE_NAME = re.compile(r"INV/\d{4}/\d+")


def pdf_text(pdf):
    """The text of a PDF, by poppler's pdftotext."""
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()


@tagged("post_install", "-at_install")
class TestWkhtmltopdf(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo's own batch size (80): nothing forces one document per call.
        cls.env["ir.config_parameter"].search(
            [("key", "=", "account.pdf_generation_batch")]
        ).unlink()
        cls.customers = [
            cls.make_partner(f"Customer {index}", f"customer{index}@example.com")
            for index in range(4)
        ]

    def setUp(self):
        super().setUp()
        if not shutil.which("pdftotext"):
            self.fail("pdftotext (Debian's poppler-utils) is needed to read PDFs")

    def mail_at_once(self, count):
        """Mail ``count`` new invoices in one send; return them with the
        invoice ids of each wkhtmltopdf rendering of the send."""
        moves = self.env["account.move"]
        for index in range(count):
            moves |= self.make_invoice(self.customers[index], amount=100.0 + index)
        wizard = self.open_wizard(moves)
        renders = []
        report_class = self.env.registry["ir.actions.report"]
        render = report_class._pre_render_qweb_pdf

        def spy(report, report_ref, res_ids=None, data=None):
            ids = [res_ids] if isinstance(res_ids, int) else list(res_ids or [])
            if set(ids) <= set(moves.ids):
                renders.append(sorted(ids))
            return render(report, report_ref, res_ids=res_ids, data=data)

        with (
            patch.object(report_class, "_pre_render_qweb_pdf", spy),
            self.assertNoLogs("odoo.addons.equisis_mail", "WARNING"),
        ):
            self.send(wizard)
        return moves, renders

    def assert_own_pdfs(self, moves):
        """Each customer got one mail with one PDF naming its invoice only."""
        self.assertEqual(len(self.smtp.received), len(moves))
        names = set(moves.mapped("name"))
        for move in moves:
            mails = [
                mail
                for mail in self.smtp.received
                if move.partner_id.email in mail.rcpt_tos
            ]
            self.assertEqual(len(mails), 1, move.name)
            pdfs = [
                content
                for filename, content in mails[0].attachments()
                if filename.endswith(".pdf")
            ]
            self.assertEqual(len(pdfs), 1, move.name)
            self.assertTrue(pdfs[0].startswith(b"%PDF"), move.name)
            self.assertEqual(pdfs[0], move.invoice_pdf_report_id.raw, move.name)
            named = set(INVOICE_NAME.findall(pdf_text(pdfs[0]))) & names
            self.assertEqual(named, {move.name})
            self.assertTrue(move.is_move_sent, move.name)

    def first_chunk(self, queued):
        """How many documents the background run takes at once from a queue
        of ``queued`` documents (Odoo's default settings otherwise)."""
        self.env["ir.config_parameter"].search([("key", "=", CHUNK_PARAM)]).unlink()
        self.env["equisis.mail.queue"].sudo().create(
            [
                {"res_model": "account.move", "res_id": 10**6 + index, "values": {}}
                for index in range(queued)
            ]
        )
        return len(self.env["equisis.mail.service"]._claim_chunk())

    def test_batch_with_patched_qt(self):
        """With patched Qt the host renders the send's invoices in one call,
        as in production, and each mail still carries its own PDF; the
        background run takes up to 50 documents at once."""
        if not wkhtmltopdf_renders_batches():
            self.skipTest("this wkhtmltopdf has no patched Qt")
        moves, renders = self.mail_at_once(4)
        self.assertEqual(renders, [sorted(moves.ids)])
        self.assert_own_pdfs(moves)
        self.assertEqual(self.first_chunk(200), 50)

    def test_chunk_follows_the_print_delay(self):
        """Without Odoo's print delay, wkhtmltopdf calls cost no wait and
        smaller ones are quicker: the background run takes 20 documents at
        once at no delay, 50 from Odoo's default (1 s) on, and what the
        administrator set in ``equisis_mail.chunk_size`` whatever the delay."""
        if not wkhtmltopdf_renders_batches():
            self.skipTest("this wkhtmltopdf has no patched Qt")
        Param = self.env["ir.config_parameter"].sudo()
        for delay, size in (("0", 20), ("500", 35), ("1000", 50), ("3000", 50)):
            Param.set_param("report.print_delay", delay)
            with self.subTest(delay=delay):
                self.assertEqual(self.first_chunk(200), size)
                self.env["equisis.mail.queue"].sudo().search([]).unlink()
        Param.set_param("report.print_delay", "0")
        Param.set_param(CHUNK_PARAM, 40)
        self.assertEqual(self.env["equisis.mail.service"]._chunk_size(), 40)

    def test_one_per_call_without_patched_qt(self):
        """Without patched Qt the addon renders one invoice per call, by
        itself, and every invoice gets its own PDF, without error."""
        if wkhtmltopdf_renders_batches():
            message = (
                "needs a wkhtmltopdf without patched Qt first on PATH "
                "(tools/test.py runs it so with the system's wkhtmltopdf)"
            )
            if os.environ.get("EQUISIS_TEST_WKHTMLTOPDF") == "unpatched":
                self.fail(message)
            self.skipTest(message)
        moves, renders = self.mail_at_once(3)
        self.assertEqual(renders, [[move_id] for move_id in moves.ids])
        self.assert_own_pdfs(moves)
        # One call per document: the background run's chunks stay small, so
        # that a chunk ends well within the time Odoo gives a run.
        self.assertEqual(self.first_chunk(200), 10)
