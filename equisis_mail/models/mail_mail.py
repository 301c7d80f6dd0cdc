# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import smtplib
import uuid

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models, modules
from odoo.exceptions import UserError, ValidationError
from odoo.modules.registry import Registry
from odoo.tools import email_normalize, email_split

from .ir_mail_server import ENVELOPE_BCC_HEADER, REFUSED

_logger = logging.getLogger(__name__)


class MailMail(models.Model):
    _inherit = "mail.mail"

    equisis_model = fields.Char(
        string="Sent Document Model",
        index="btree_not_null",
        readonly=True,
        help="The model of the document this mail carries: the document is "
        "marked sent once the SMTP server accepts the mail.",
    )
    equisis_res_id = fields.Many2oneReference(
        string="Sent Document",
        model_field="equisis_model",
        index="btree_not_null",
        readonly=True,
    )
    equisis_background = fields.Boolean(
        string="Made in the Background",
        readonly=True,
        copy=False,
        help="Made by a background job: the main job delivers it.",
    )
    equisis_bcc = fields.Char(
        string="Envelope BCC",
        readonly=True,
        help="Addresses that receive a blind copy through the SMTP envelope "
        "only (BCC confirmation). They appear in no header.",
    )
    equisis_refused = fields.Text(
        string="Refused Recipients",
        readonly=True,
        copy=False,
        help="Recipients the mail server refused, with its answer, while it "
        "accepted the mail for the others.",
    )
    equisis_reported = fields.Boolean(
        string="Outcome Recorded",
        readonly=True,
        copy=False,
        help="Whether what became of this mail is recorded on its document "
        "(sent flag, chatter note). The background run records what is left.",
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

    def mark_outgoing(self):
        """A mail sent again has a new outcome to record."""
        self.filtered("equisis_model").write(
            {"equisis_reported": False, "equisis_refused": False}
        )
        return super().mark_outgoing()

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        """In this addon's deliveries, a dropped SMTP session fails the mail
        it dropped on, and only that one.

        The host writes each mail's state before its SMTP step, one mail after
        the other in this recordset's order: the last mail no longer
        outgoing is the one in progress; those after it were never tried and
        keep their state and schedule, as do the mails the personal server's
        limit held back (they are not in this batch).
        """
        to_try = self.filtered(lambda mail: mail.state == "outgoing")
        try:
            return super()._send(
                auto_commit=auto_commit,
                raise_exception=raise_exception,
                smtp_session=smtp_session,
                alias_domain_id=alias_domain_id,
                mail_server=mail_server,
                post_send_callback=post_send_callback,
            )
        except smtplib.SMTPServerDisconnected as error:
            if not self.env.context.get("equisis_delivery"):
                raise
            interrupted = to_try.filtered(lambda mail: mail.state != "outgoing")[-1:]
            _logger.info("SMTP session dropped on mail %s: %s", interrupted.ids, error)
            reason = self.env._(
                "The mail server closed the connection: %(error)s", error=error
            )
            interrupted.write(
                {
                    "state": "exception",
                    "failure_reason": reason,
                    "failure_type": "mail_smtp",
                }
            )
            interrupted._postprocess_sent_message(
                success_pids=[],
                success_emails=[],
                failure_reason=reason,
                failure_type="mail_smtp",
            )
            return True

    def _equisis_deliver_after_commit(self):
        """Deliver once the transaction that made the mails is committed, as
        the host's ``send_after_commit`` does (at once in tests)."""
        # Only the language goes on: no key of the caller's context (such as
        # the host's ``send_smtp_skip_to``) may change who receives the mail.
        context = {
            key: self.env.context[key]
            for key in ("lang", "tz")
            if key in self.env.context
        }
        if modules.module.current_test:
            self.with_env(self.env(context=context))._equisis_deliver()
            return
        mail_ids, dbname = self.ids, self.env.cr.dbname

        @self.env.cr.postcommit.add
        def deliver():
            with Registry(dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, context)
                env["mail.mail"].browse(mail_ids)._equisis_deliver()

    def _equisis_deliver(self):
        """Send these mails now through the host's ``send``, then record each
        outcome on its document, after the SMTP step.

        Each accepted mail is committed at once (the host's ``auto_commit``,
        off in tests), so nothing that happens after can put it back in the
        queue and send it twice; recording the outcome comes after, and when
        it fails the background run records it later.
        """
        token = uuid.uuid4().hex
        REFUSED[token] = {}
        try:
            self.with_context(equisis_delivery=token).send(
                auto_commit=not modules.module.current_test
            )
            refused = REFUSED[token]
        finally:
            REFUSED.pop(token, None)
        self.filtered(lambda mail: mail.message_id in refused)._equisis_set_refused(
            refused
        )
        self._equisis_report()
        if self.filtered(lambda mail: mail.state == "outgoing"):
            # Held back by the personal server's limit or never tried: the
            # host's queue sends them; the background run records them.
            self.env.ref("equisis_mail.ir_cron_equisis_send").sudo()._trigger(
                fields.Datetime.add(fields.Datetime.now(), minutes=2)
            )

    def _equisis_set_refused(self, refused_by_message_id):
        """Note the recipients the server refused while accepting the mail;
        when it refused every recipient of the mail (only the sender's blind
        copy went), the mail failed."""
        for mail in self:
            refused = refused_by_message_id[mail.message_id]
            text = "\n".join(
                f"{address}: {code} {answer.decode(errors='replace')}"
                for address, (code, answer) in refused.items()
            )
            recipients = {email_normalize(a) for a in email_split(mail.email_to)}
            gone = {email_normalize(address) for address in refused}
            if recipients <= gone:
                mail.write(
                    {
                        "state": "exception",
                        "failure_type": "mail_email_invalid",
                        "failure_reason": self.env._(
                            "The mail server refused every recipient:\n%(refused)s",
                            refused=text,
                        ),
                    }
                )
            else:
                mail.equisis_refused = text

    def _equisis_report(self):
        """Record on each document what became of its mail, once: the sent
        flag and the refused recipients, or the failure. A failure to record
        leaves the mail as it is; the background run records it later."""
        done = self.filtered(
            lambda mail: (
                mail.equisis_model
                and not mail.equisis_reported
                and mail.state in ("sent", "exception")
            )
        )
        if not done:
            return
        try:
            with self.env.cr.savepoint():
                for documents, mails in done._equisis_by_document_model():
                    sent = mails.filtered(lambda mail: mail.state == "sent")
                    if sent:
                        documents.browse(
                            sent.mapped("equisis_res_id")
                        ).exists()._equisis_mark_sent(sent)
                    failed = mails - sent
                    if failed:
                        documents.browse(
                            failed.mapped("equisis_res_id")
                        ).exists()._equisis_mark_failed(failed)
                done.equisis_reported = True
        except (psycopg2.Error, UserError, ValidationError) as error:
            _logger.warning(
                "Could not record the outcome of mails %s yet: %s", done.ids, error
            )
            self.env.ref("equisis_mail.ir_cron_equisis_send").sudo()._trigger(
                fields.Datetime.add(fields.Datetime.now(), minutes=1)
            )

    def _equisis_document(self):
        """The document this mail of the addon carries (empty if deleted)."""
        self.ensure_one()
        if not self.equisis_model:
            return None
        return self.env[self.equisis_model].browse(self.equisis_res_id).exists()

    def _equisis_documents_by_mail(self):
        """Each mail's document, looked up once per model (empty if deleted)."""
        result = {}
        for documents, mails in self._equisis_by_document_model():
            existing = documents.browse(mails.mapped("equisis_res_id")).exists()
            for mail in mails:
                result[mail] = existing.browse(mail.equisis_res_id) & existing
        for mail in self - self.filtered("equisis_model"):
            result[mail] = None
        return result

    def _equisis_by_document_model(self):
        """These mails by the model of their documents, with an empty
        recordset of that model in superuser mode (recording an outcome is
        not the sender's to allow)."""
        by_model = {}
        for mail in self.filtered("equisis_model"):
            by_model.setdefault(mail.equisis_model, self.browse())
            by_model[mail.equisis_model] |= mail
        return [(self.env[model].sudo(), mails) for model, mails in by_model.items()]
