# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.safe_eval import safe_eval, time

from ..utils.addresses import split_recipients


class EquisisMailDocument(models.AbstractModel):
    """A document that the sending service can mail: invoices, and the
    models that glue addons add (sales and purchase orders).

    The service and the send window only call the ``_equisis_*`` methods
    below; a document model inherits this mixin and overrides those that
    differ for it (its letter target, its host report, its "sent" state,
    its own files), never the sending itself.
    """

    _name = "equisis.mail.document"
    _description = "Document Mailed with Letters"

    equisis_mail_state = fields.Selection(
        selection=[
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("partial", "Sent, Some Recipients Refused"),
            ("failed", "Failed"),
        ],
        string="E-mail Status",
        compute="_compute_equisis_mail_state",
        search="_search_equisis_mail_state",
        compute_sudo=True,
        # Computed from every user's mails: for the company's staff only,
        # never for the customer reading the document in the portal.
        groups="base.group_user",
    )
    equisis_mail_failure = fields.Char(
        string="E-mail Failure",
        compute="_compute_equisis_mail_state",
        compute_sudo=True,
        groups="base.group_user",
    )

    def _compute_equisis_mail_state(self):
        queued = set(
            self.env["equisis.mail.queue"]
            .search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
            .mapped("res_id")
        )
        mails = self.env["mail.mail"].search(
            [("equisis_model", "=", self._name), ("equisis_res_id", "in", self.ids)],
            order="id desc",
        )
        last_by_id = {}
        for mail in mails:
            last_by_id.setdefault(mail.equisis_res_id, mail)
        for document in self:
            mail = last_by_id.get(document.id)
            document.equisis_mail_failure = False
            if document.id in queued or (mail and mail.state == "outgoing"):
                document.equisis_mail_state = "queued"
            elif not mail:
                document.equisis_mail_state = False
            elif mail.state == "exception":
                document.equisis_mail_state = "failed"
                document.equisis_mail_failure = mail.failure_reason or self.env._(
                    "The mail server refused the mail."
                )
            elif mail.equisis_refused:
                document.equisis_mail_state = "partial"
                document.equisis_mail_failure = mail.equisis_refused
            else:
                document.equisis_mail_state = "sent"

    def _search_equisis_mail_state(self, operator, value):
        """Documents by the state of their latest mail of this addon (the
        lists' "E-mail failed" filter). The domain it returns is checked no
        more: the field's groups are checked here."""
        self._check_field_access(self._fields["equisis_mail_state"], "read")
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(
                self.env._("This search on the e-mail status is not supported.")
            )
        wanted = {value} if operator in ("=", "!=") else set(value or ())
        mailed = self._equisis_mailed_ids()
        matching = [
            document.id
            for document in self.browse(mailed).sudo()
            if document.equisis_mail_state in wanted
        ]
        domain = [("id", "in", matching)]
        if False in wanted:
            domain = ["|", ("id", "in", matching), ("id", "not in", mailed)]
        if operator in ("!=", "not in"):
            return ["!", *domain]
        return domain

    def _equisis_mailed_ids(self):
        """The documents that have a mail of this addon, queued or not."""
        mailed = (
            self.env["mail.mail"]
            .sudo()
            ._read_group([("equisis_model", "=", self._name)], ["equisis_res_id"])
        )
        queued = (
            self.env["equisis.mail.queue"]
            .sudo()
            .search([("res_model", "=", self._name)])
        )
        return list({res_id for (res_id,) in mailed} | set(queued.mapped("res_id")))

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_equisis_open_send_wizard(self):
        """Open the send window on these documents (the Action menu)."""
        if not self:
            raise UserError(self.env._("Select the documents to send first."))
        wizard = self.env["equisis.mail.send"].create(
            {"res_model": self._name, "res_ids": self.ids}
        )
        return wizard._reopen()

    def action_equisis_retry_mail(self):
        """Send again the failed mails of these documents (the Action menu)."""
        mails = self.env["equisis.mail.service"]._retry(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "%(count)s e-mail(s) will be sent again.", count=len(mails)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------
    # Layer of the sending service: override per document model
    # ------------------------------------------------------------

    def _equisis_letter_target(self):
        """The ``target`` of the letters that fit this document."""
        raise NotImplementedError

    def _equisis_default_report(self):
        """The host's report for this document's mail."""
        raise NotImplementedError

    def _equisis_is_sent(self):
        """Whether the host considers this document sent: for orders, their
        "sent" state (quotation or RFQ sent)."""
        return "state" in self._fields and self.state == "sent"

    def _equisis_document_problem(self):
        """Why this document cannot be mailed at all (its state), if it cannot."""
        if "state" in self._fields and self.state == "cancel":
            return self.env._("%(name)s is cancelled.", name=self.display_name)
        return False

    def _equisis_partner(self):
        """The partner the document is addressed to; its language picks the letter."""
        return self.partner_id

    def _equisis_recipients(self):
        """The addresses each document goes to: its partner's own.

        :return: {document id: [addresses]}
        """
        result = {}
        for document in self:
            valid, invalid = split_recipients(document._equisis_partner().email)
            result[document.id] = valid + invalid
        return result

    def _equisis_sending_notes(self):
        """Notes on documents whose partner prefers another way than e-mail.

        :return: {document id: note}
        """
        return {}

    def _equisis_known_pdf_size(self):
        """The size of the PDF already made for this document, if any, to
        warn before the mail server refuses a mail too large."""
        return 0

    def _equisis_print_reports(self):
        """The reports a mail of these documents may carry: their print
        forms' and the host's."""
        letters = self.env["equisis.letter"].search(
            [
                ("letter_type", "=", "print_form"),
                (
                    "target",
                    "in",
                    list({document._equisis_letter_target() for document in self}),
                ),
            ]
        )
        reports = letters.report_id
        for document in self:
            reports |= document._equisis_default_report()
        return reports.filtered(lambda report: report.model == self._name)

    def _equisis_report_filename(self, report):
        """The file name the host gives this document's PDF."""
        self.ensure_one()
        if report.print_report_name:
            name = safe_eval(report.print_report_name, {"object": self, "time": time})
            if name:
                return f"{name}.pdf"
        return f"{report.name}.pdf"

    def _equisis_render_mail_pdf(self, report):
        """Render the print form for this document's mail alone: the file is
        not attached to the document, so it is never proposed as an annex."""
        self.ensure_one()
        content, _report_type = (
            self.env["ir.actions.report"]
            .with_company(self.company_id)
            ._render_qweb_pdf(report.report_name, self.ids)
        )
        return self.env["ir.attachment"].create(
            {
                "name": self._equisis_report_filename(report),
                "raw": content,
                "mimetype": "application/pdf",
                "res_model": False,
                "res_id": False,
            }
        )

    def _equisis_mail_files(self, report_by_id):
        """The files of each document's mail: its print form, rendered by the
        host's report engine.

        :param report_by_id: {document id: ir.actions.report}
        :return: ({document id: ir.attachment}, {document id: why not made})
        """
        return {
            document.id: document._equisis_render_mail_pdf(report_by_id[document.id])
            for document in self
        }, {}

    def _equisis_mark_sent(self, mails):
        """Called once the SMTP server accepted the mails of these documents."""
        for mail in mails.filtered(
            lambda mail: mail.equisis_refused and mail.equisis_res_id in self.ids
        ):
            self.browse(mail.equisis_res_id)._message_log(
                body=Markup("<p>%s</p><pre>%s</pre>")
                % (
                    self.env._(
                        "The mail server accepted the e-mail but refused these "
                        "recipients:"
                    ),
                    mail.equisis_refused,
                ),
            )
        self.invalidate_recordset(["equisis_mail_state", "equisis_mail_failure"])

    def _equisis_mark_failed(self, mails):
        """Called once the mails of these documents failed."""
        for mail in mails.filtered(lambda mail: mail.equisis_res_id in self.ids):
            self.browse(mail.equisis_res_id)._message_log(
                body=Markup("<p>%s</p><p>%s</p>")
                % (
                    self.env._(
                        "The e-mail to %(recipients)s could not be sent. "
                        "Use “Retry e-mail” on the document once the cause is fixed.",
                        recipients=mail.email_to,
                    ),
                    escape(mail.failure_reason or ""),
                ),
            )
        self.invalidate_recordset(["equisis_mail_state", "equisis_mail_failure"])

    @api.model
    def _equisis_document_models(self):
        """The names of the models that take part."""
        return self.env.registry[self._name]._inherit_children
