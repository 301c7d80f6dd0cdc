# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountMove(models.Model):
    """The invoice layer of the sending service: which reports a mail may
    carry, the files (through the host's invoice document pipeline), and the
    "sent" flag."""

    _name = "account.move"
    _inherit = ["account.move", "equisis.mail.document"]

    def _equisis_letter_target(self):
        return self.move_type

    def _equisis_default_report(self):
        return self._equisis_report_by_xmlid("account.account_invoices")

    def _equisis_is_sent(self):
        return self.is_move_sent

    def _equisis_document_problem(self):
        if self.state != "posted":
            return self.env._(
                "The document %(name)s is not posted.", name=self.display_name
            )
        return False

    def _equisis_recipients(self):
        """The partner's own address(es), then those of its invoice contacts."""
        by_partner = self.partner_id._equisis_invoice_recipients()
        return {move.id: by_partner.get(move.partner_id.id, []) for move in self}

    def _equisis_sending_notes(self):
        methods = dict(
            self.env["res.partner"].fields_get(
                ["invoice_sending_method"], ["selection"]
            )["invoice_sending_method"]["selection"]
        )
        notes = {}
        for move in self:
            partner = move.commercial_partner_id.with_company(move.company_id)
            method = partner.invoice_sending_method
            if method and method != "email":
                notes[move.id] = self.env._(
                    "%(partner)s prefers to receive documents by %(method)s.",
                    partner=partner.display_name,
                    method=methods.get(method, method),
                )
        return notes

    def _equisis_known_pdf_size(self):
        return self.invoice_pdf_report_id.sudo().file_size or 0

    def _equisis_report_filename(self, report):
        return self._get_invoice_report_filename(report=report)

    def _equisis_mail_files(self, report_by_id):
        """The files of each invoice's mail, made by the host's invoice
        document pipeline (see ``account.move.send``)."""
        return self.env["account.move.send"]._equisis_mail_documents(self, report_by_id)

    def _equisis_mark_sent(self, mails):
        """Only the flag changes: the invoice's lines need no synchronisation,
        which would cost a tenth of a second per document."""
        self.with_context(skip_invoice_sync=True).is_move_sent = True
        return super()._equisis_mark_sent(mails)
