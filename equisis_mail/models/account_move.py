# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup, escape

from odoo import Command, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    """The invoice layer of the sending service: which reports a mail may
    carry, the files (through the host's invoice document pipeline), and the
    "sent" flag."""

    _inherit = "account.move"

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
    )
    equisis_mail_failure = fields.Char(
        string="E-mail Failure",
        compute="_compute_equisis_mail_state",
        compute_sudo=True,
    )

    def _compute_equisis_mail_state(self):
        queued = set(
            self.env["equisis.mail.queue"]
            .search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
            .mapped("res_id")
        )
        mails = self.env["mail.mail"].search(
            [("equisis_move_id", "in", self.ids)], order="id desc"
        )
        last_by_move = {}
        for mail in mails:
            last_by_move.setdefault(mail.equisis_move_id.id, mail)
        for move in self:
            mail = last_by_move.get(move.id)
            move.equisis_mail_failure = False
            if move.id in queued or (mail and mail.state == "outgoing"):
                move.equisis_mail_state = "queued"
            elif not mail:
                move.equisis_mail_state = False
            elif mail.state == "exception":
                move.equisis_mail_state = "failed"
                move.equisis_mail_failure = mail.failure_reason or self.env._(
                    "The mail server refused the mail."
                )
            elif mail.equisis_refused:
                move.equisis_mail_state = "partial"
                move.equisis_mail_failure = mail.equisis_refused
            else:
                move.equisis_mail_state = "sent"

    def _search_equisis_mail_state(self, operator, value):
        """Documents by the state of their latest mail of this addon (the
        invoice list's "E-mail failed" filter)."""
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(
                self.env._("This search on the e-mail status is not supported.")
            )
        wanted = {value} if operator in ("=", "!=") else set(value or ())
        mailed = self._equisis_mailed_ids()
        matching = [
            move.id
            for move in self.browse(mailed).sudo()
            if move.equisis_mail_state in wanted
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
            ._read_group([("equisis_move_id", "!=", False)], ["equisis_move_id"])
        )
        queued = (
            self.env["equisis.mail.queue"]
            .sudo()
            .search([("res_model", "=", self._name)])
        )
        return list({move.id for (move,) in mailed} | set(queued.mapped("res_id")))

    def action_equisis_open_send_wizard(self):
        """Open the send window on these documents (the list's Action menu)."""
        if not self:
            raise UserError(self.env._("Select the documents to send first."))
        wizard = self.env["equisis.mail.send"].create(
            {"move_ids": [Command.set(self.ids)]}
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
    # Layer of the sending service
    # ------------------------------------------------------------

    def _equisis_print_reports(self):
        """The reports a mail of this document may carry: its print forms'
        and the host's invoice report."""
        letters = self.env["equisis.letter"].search(
            [
                ("letter_type", "=", "print_form"),
                ("target", "in", list(set(self.mapped("move_type")))),
            ]
        )
        return (letters.report_id | self.env.ref("account.account_invoices")).filtered(
            lambda report: report.model == self._name
        )

    def _equisis_mail_files(self, report_by_id):
        """The files of each invoice's mail, made by the host's invoice
        document pipeline (see ``account.move.send``).

        :param report_by_id: {move id: the print form's ir.actions.report}
        :return: ({move id: ir.attachment}, {move id: why not made})
        """
        return self.env["account.move.send"]._equisis_mail_documents(self, report_by_id)

    def _equisis_mark_sent(self, mails):
        """Called once the SMTP server accepted the mails of these documents.

        Only the flag changes: the invoice's lines need no synchronisation,
        which would cost a tenth of a second per document.
        """
        self.with_context(skip_invoice_sync=True).is_move_sent = True
        for mail in mails.filtered("equisis_refused"):
            mail.equisis_move_id._message_log(
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
        for mail in mails:
            mail.equisis_move_id._message_log(
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
