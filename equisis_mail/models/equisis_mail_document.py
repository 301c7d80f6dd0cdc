# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval, time

from ..utils.addresses import split_recipients

STATUS_FIELDS = {
    "equisis_mail_state",
    "equisis_mail_failure",
    "equisis_mail_sent_date",
    "equisis_mail_sent_to",
}


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
        readonly=True,
        copy=False,
        index=True,
        # For the company's staff only, never for the customer reading the
        # document in the portal.
        groups="base.group_user",
        help="What became of the latest mail of this document sent with "
        "letters. Written where its outcome is recorded, so that lists filter "
        "and group on it whatever the history.",
    )
    equisis_mail_failure = fields.Char(
        string="E-mail Failure",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    equisis_mail_sent_date = fields.Datetime(
        string="Last Mailed On",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="When the mail server last accepted a mail of this document.",
    )
    equisis_mail_sent_to = fields.Char(
        string="Last Mailed To",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )

    @api.model_create_multi
    def create(self, vals_list):
        self._equisis_check_status_write({name for vals in vals_list for name in vals})
        records = super().create(vals_list)
        if not self.env.su:
            # Defaults of the caller's context (``default_<field>``) are
            # applied by the host after the values above.
            self._equisis_check_status_write(
                {name for name in STATUS_FIELDS if any(records.sudo().mapped(name))}
            )
        return records

    def write(self, vals):
        self._equisis_check_status_write(vals)
        return super().write(vals)

    def _equisis_check_status_write(self, names):
        """The status says what the mail server did: only the sending
        service writes it (as superuser), never a user, over RPC or not."""
        if not self.env.su and STATUS_FIELDS.intersection(names):
            raise AccessError(
                self.env._(
                    "The e-mail status of a document is written by the sending "
                    "service only."
                )
            )

    def _equisis_set_mail_state(self, state, failure=False, mail=None):
        """Record the status of these documents' latest mail.

        Written as superuser without the invoice's line synchronisation: the
        status is the service's bookkeeping, not a change of the document.
        """
        values = {"equisis_mail_state": state, "equisis_mail_failure": failure}
        if mail and state in ("sent", "partial"):
            # When the acceptance is recorded, right after it: a mail sent
            # again (a Retry) keeps the date it was written on.
            values.update(
                equisis_mail_sent_date=fields.Datetime.now(),
                equisis_mail_sent_to=mail.email_to,
            )
        self.sudo().with_context(skip_invoice_sync=True, tracking_disable=True).write(
            values
        )

    @api.model
    def _equisis_fill_mail_state(self, batch=10000):
        """Fill the stored status of this model's documents from the mails
        and the queue of this addon (upgrade from a version that computed
        it), a range of documents at a time."""
        table = SQL.identifier(self._table)
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT min(equisis_res_id), max(equisis_res_id) FROM mail_mail "
                "WHERE equisis_model = %s",
                self._name,
            )
        )
        low, high = cr.fetchone()
        refused_text = self.env._("The mail server refused the mail.")
        for start in range(low or 0, (high or -1) + 1, batch):
            cr.execute(
                SQL(
                    """
                    UPDATE %(table)s AS doc
                       SET equisis_mail_state = last.status,
                           equisis_mail_failure = last.failure
                      FROM (
                        SELECT DISTINCT ON (m.equisis_res_id)
                               m.equisis_res_id AS res_id,
                               CASE
                                 WHEN m.state = 'exception' THEN 'failed'
                                 WHEN m.state = 'outgoing' THEN 'queued'
                                 WHEN m.state = 'sent'
                                      AND COALESCE(m.equisis_refused, '') != ''
                                   THEN 'partial'
                                 WHEN m.state = 'sent' THEN 'sent'
                               END AS status,
                               CASE
                                 WHEN m.state = 'exception'
                                   THEN COALESCE(m.failure_reason, %(refused)s)
                                 WHEN m.state = 'sent'
                                   THEN NULLIF(m.equisis_refused, '')
                               END AS failure
                          FROM mail_mail m
                         WHERE m.equisis_model = %(model)s
                           AND m.equisis_res_id >= %(start)s
                           AND m.equisis_res_id < %(stop)s
                      ORDER BY m.equisis_res_id, m.id DESC
                      ) AS last
                     WHERE doc.id = last.res_id AND last.status IS NOT NULL
                    """,
                    table=table,
                    refused=refused_text,
                    model=self._name,
                    start=start,
                    stop=start + batch,
                )
            )
            cr.execute(
                SQL(
                    """
                    UPDATE %(table)s AS doc
                       SET equisis_mail_sent_date = last.date,
                           equisis_mail_sent_to = last.email_to
                      FROM (
                        SELECT DISTINCT ON (m.equisis_res_id)
                               m.equisis_res_id AS res_id, msg.date, m.email_to
                          FROM mail_mail m
                          JOIN mail_message msg ON msg.id = m.mail_message_id
                         WHERE m.equisis_model = %(model)s
                           AND m.state = 'sent'
                           AND m.equisis_res_id >= %(start)s
                           AND m.equisis_res_id < %(stop)s
                      ORDER BY m.equisis_res_id, m.id DESC
                      ) AS last
                     WHERE doc.id = last.res_id
                    """,
                    table=table,
                    model=self._name,
                    start=start,
                    stop=start + batch,
                )
            )
        cr.execute(
            SQL(
                "UPDATE %s SET equisis_mail_state = 'queued' WHERE id IN "
                "(SELECT res_id FROM equisis_mail_queue WHERE res_model = %s)",
                table,
                self._name,
            )
        )
        self.invalidate_model(
            [
                "equisis_mail_state",
                "equisis_mail_failure",
                "equisis_mail_sent_date",
                "equisis_mail_sent_to",
            ]
        )

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
        Service = self.env["equisis.mail.service"]
        mails = Service._retry(self)
        message = (
            self.env._("1 e-mail will be sent again.")
            if len(mails) == 1
            else self.env._("%(count)s e-mails will be sent again.", count=len(mails))
        )
        # Those retried are queued now: the documents still failed have no
        # mail to send again.
        never_made = self.filtered(
            lambda document: document.equisis_mail_state == "failed"
        )
        if never_made:
            message = f"{message} {Service._never_made_message(never_made)}"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if never_made else "info",
                "message": message,
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

    @api.model
    def _equisis_report_by_xmlid(self, xmlid):
        """The report of this external id, from Odoo's cached id lookup:
        ``env.ref`` checks that the record exists, a query per call, and a
        window asks once per document."""
        return self.env["ir.actions.report"].browse(
            self.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=True)
        )

    def _equisis_is_sent(self):
        """Whether the host considers this document sent: for orders, their
        "sent" state (quotation or RFQ sent)."""
        return "state" in self._fields and self.state == "sent"

    def _equisis_document_problem(self):
        """Why this document cannot be mailed at all (its state), if it cannot."""
        if "state" in self._fields and self.state == "cancel":
            return self.env._("%(name)s is cancelled.", name=self.display_name)
        return False

    def _equisis_check_send_access(self):
        """Refuse these documents if the current user may not mail them:
        a document's mail changes it (sent state, chatter), so it takes
        write access; a model may ask less (contacts: read)."""
        self.check_access("write")

    def _equisis_recipient_problem(self, addresses):
        """Why this document's mail may not go to these addresses, if so
        (contacts: Odoo's blacklist). Checked in the window and again by
        the service.

        :param addresses: the valid addresses of the mail, perhaps none
        """
        return False

    @api.model
    def _equisis_sent_once(self):
        """Whether a document is mailed once: a second mail is then a choice
        the send window asks to confirm. A contact gets many mails."""
        return True

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
        for mail in mails.filtered(lambda mail: mail.equisis_res_id in self.ids):
            self.browse(mail.equisis_res_id)._equisis_set_mail_state(
                "partial" if mail.equisis_refused else "sent",
                mail.equisis_refused or False,
                mail=mail,
            )
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

    def _equisis_mark_failed(self, mails):
        """Called once the mails of these documents failed."""
        for mail in mails.filtered(lambda mail: mail.equisis_res_id in self.ids):
            document = self.browse(mail.equisis_res_id)
            document._equisis_set_mail_state(
                "failed",
                mail.failure_reason or self.env._("The mail server refused the mail."),
            )
            document._message_log(
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

    @api.model
    def _equisis_document_models(self):
        """The names of the models that take part."""
        return self.env.registry[self._name]._inherit_children
