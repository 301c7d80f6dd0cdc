# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import smtplib

from odoo import SUPERUSER_ID, api, fields, models, modules
from odoo.modules.registry import Registry
from odoo.tools.translate import code_translations

from .ir_mail_server import ENVELOPE_BCC_HEADER

_logger = logging.getLogger(__name__)
HOST_PLACEHOLDER = (
    "Error without exception. Probably due to sending an email without computed "
    "recipients."
)


class MailMail(models.Model):
    _inherit = "mail.mail"

    equisis_move_id = fields.Many2one(
        comodel_name="account.move",
        string="Sent Document",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The document this mail carries: it is marked sent once the "
        "SMTP server accepts the mail.",
    )
    equisis_bcc = fields.Char(
        string="Envelope BCC",
        readonly=True,
        help="Addresses that receive a blind copy through the SMTP envelope "
        "only (BCC confirmation). They appear in no header.",
    )

    def _prepare_outgoing_list(self, mail_server=False, doc_to_followers=None):
        email_list = super()._prepare_outgoing_list(
            mail_server=mail_server, doc_to_followers=doc_to_followers
        )
        if self.equisis_bcc and email_list:
            # One copy per mail, not one per recipient: only the first message
            # of the list carries the envelope copy.
            first = email_list[0]
            first["headers"] = {
                **(first.get("headers") or {}),
                ENVELOPE_BCC_HEADER: self.equisis_bcc,
            }
        return email_list

    def _postprocess_sent_message(
        self, success_pids, success_emails, failure_reason=False, failure_type=None
    ):
        """A document is sent only once the SMTP server accepted its mail."""
        sent = self.filtered(lambda mail: mail.state == "sent" and mail.equisis_move_id)
        if sent:
            sent.equisis_move_id.sudo()._equisis_mark_sent(sent)
        failed = self.filtered(
            lambda mail: mail.state == "exception" and mail.equisis_move_id
        )
        if failed:
            failed.equisis_move_id.sudo()._equisis_mark_failed(failed)
        return super()._postprocess_sent_message(
            success_pids,
            success_emails,
            failure_reason=failure_reason,
            failure_type=failure_type,
        )

    def _equisis_deliver_after_commit(self):
        """Deliver once the transaction that made the mails is committed, as
        the host's ``send_after_commit`` does (at once in tests)."""
        if modules.module.current_test:
            self._equisis_deliver()
            return
        mail_ids, dbname, context = self.ids, self.env.cr.dbname, self.env.context

        @self.env.cr.postcommit.add
        def deliver():
            with Registry(dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, context)
                env["mail.mail"].browse(mail_ids)._equisis_deliver()

    def _equisis_deliver(self):
        """Send these mails now, through the host's ``send``.

        Each accepted mail is committed at once (the host's ``auto_commit``,
        off in tests), so a later failure cannot undo it and resend it. When
        the server drops the session (a 421 mid-batch), the mails not yet
        accepted fail with the server's reason, visible and retryable,
        instead of the whole batch being rolled back.
        """
        try:
            self.send(auto_commit=not modules.module.current_test)
        except smtplib.SMTPServerDisconnected as error:
            _logger.info(
                "SMTP session dropped while sending %s mails: %s", len(self), error
            )
            # The host marks the mail in progress failed before sending it,
            # with this placeholder reason (in its own words, translated by
            # the mail module), and would have replaced it after.
            placeholder = code_translations.get_python_translations(
                "mail", self.env.lang or "en_US"
            ).get(HOST_PLACEHOLDER, HOST_PLACEHOLDER)
            unfinished = self.filtered(
                lambda mail: (
                    mail.state == "outgoing"
                    or (
                        mail.state == "exception" and mail.failure_reason == placeholder
                    )
                )
            )
            reason = self.env._(
                "The mail server closed the connection: %(error)s", error=error
            )
            unfinished.write(
                {
                    "state": "exception",
                    "failure_reason": reason,
                    "failure_type": "mail_smtp",
                }
            )
            for mail in unfinished:
                mail._postprocess_sent_message(
                    success_pids=[],
                    success_emails=[],
                    failure_reason=reason,
                    failure_type="mail_smtp",
                )
