# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import subprocess

from odoo import api, models
from odoo.tools.misc import find_in_path

_logger = logging.getLogger(__name__)

# {path of a wkhtmltopdf: whether it has patched Qt}, read once per binary.
_PATCHED_QT = {}


def wkhtmltopdf_renders_batches():
    """Whether the wkhtmltopdf Odoo finds can render several documents in
    one call: only a build with patched Qt can, Odoo's own test being its
    ``--version``. A missing one counts as able, so that the host reports
    it as it always does."""
    try:
        binary = find_in_path("wkhtmltopdf")
    except OSError:
        return True
    if not binary:
        return True
    if binary not in _PATCHED_QT:
        try:
            version = subprocess.run(
                [binary, "--version"],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            version = ""
        _PATCHED_QT[binary] = "(with patched qt)" in version
        if not _PATCHED_QT[binary]:
            _logger.info(
                "%s has no patched Qt: invoice PDFs are rendered one per call",
                binary,
            )
    return _PATCHED_QT[binary]


class AccountMoveSend(models.AbstractModel):
    """The host's invoice document pipeline, run for mails of this addon.

    The documents are made exactly as the host's Print & Send makes them
    (EDI before the PDF, the PDF, Factur-X and PDF/A after it, the legal
    documents linked to the invoice), so that localisations and e-invoicing
    modules that hook these steps keep working. Only the mail differs: it
    is this addon's, and the invoice is marked sent when it left.
    """

    _inherit = "account.move.send"

    @api.model
    def _equisis_documents_data(self, moves):
        """The host's settings for the documents of each invoice, sent by e-mail."""
        user = self.env.user
        return {
            move.sudo(): {
                "sending_methods": {"email"},
                "invoice_edi_format": self._get_default_invoice_edi_format(
                    move, sending_methods={"email"}
                ),
                "extra_edis": self._get_default_extra_edis(move),
                "pdf_report": self._get_default_pdf_report_id(move),
                "author_user_id": user.id,
                "author_partner_id": user.partner_id.id,
            }
            for move in moves
        }

    @api.model
    def _equisis_mail_documents(self, moves, report_by_id):
        """Make the invoices' documents and say which files each mail carries.

        A mail carries what the host's mail would (the legal PDF and the
        e-invoice files of ``_get_invoice_extra_attachments``); a print form
        other than the legal PDF's report replaces the legal PDF in the mail
        only: it is made for the mail and belongs to it alone.

        :return: ({move id: ir.attachment}, {move id: the host's error text})
        """
        # The host makes documents for sales documents only (its own
        # constraints); a vendor bill's mail carries its print form alone.
        documents = moves.filtered(lambda move: not self._get_move_constraints(move))
        moves_data = self._equisis_documents_data(documents)
        sender = self.with_context(equisis_mail_documents=True)
        for batch in self._equisis_pdf_batches(moves_data):
            sender._generate_invoice_documents(batch)
        files, errors = {}, {}
        for_mail_only = [(move, report_by_id[move.id]) for move in moves - documents]
        for move, data in moves_data.items():
            if data.get("error"):
                errors[move.id] = self._format_error_text(data["error"])
                continue
            files[move.id] = self._get_invoice_extra_attachments(move).with_env(
                self.env
            )
            report = report_by_id[move.id]
            if report != data["pdf_report"]:
                files[move.id] -= move.invoice_pdf_report_id
                for_mail_only.append((move, report))
        for move, report in for_mail_only:
            files[move.id] = files.get(
                move.id, self.env["ir.attachment"]
            ) | move.with_env(self.env)._equisis_render_mail_pdf(report)
        return files, errors

    @api.model
    def _equisis_pdf_batches(self, moves_data):
        """Split the invoices into the host's calls: all at once, the host
        rendering them in batches of ``account.pdf_generation_batch``; but
        one invoice to render per call when wkhtmltopdf has no patched Qt,
        which renders only one document per call (the host would refuse)."""
        if not moves_data:
            return []
        to_render = [move for move in moves_data if not move.invoice_pdf_report_id]
        if len(to_render) < 2 or wkhtmltopdf_renders_batches():
            return [moves_data]
        rendered = {
            move: data for move, data in moves_data.items() if move not in to_render
        }
        return ([rendered] if rendered else []) + [
            {move: moves_data[move]} for move in to_render
        ]

    @api.model
    def _link_invoice_documents(self, invoices_data):
        """The host marks an invoice sent when it links its documents; for
        this addon's mails, the invoice is sent only once its mail left."""
        if not self.env.context.get("equisis_mail_documents"):
            return super()._link_invoice_documents(invoices_data)
        not_sent = [invoice for invoice in invoices_data if not invoice.is_move_sent]
        res = super()._link_invoice_documents(invoices_data)
        for invoice in not_sent:
            if invoice.is_move_sent:
                invoice.with_context(skip_invoice_sync=True).is_move_sent = False
        return res
