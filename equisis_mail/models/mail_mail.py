# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import smtplib

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models, modules
from odoo.modules.registry import Registry
from odoo.tools import SQL, email_normalize, email_split, mute_logger

from .equisis_mail_handoff import TRANSACTION_KEY
from .ir_mail_server import DATA_KEY, ENVELOPE_BCC_HEADER, HANDOFF_KEY, REFUSED_KEY

_logger = logging.getLogger(__name__)


# Days a sent mail of this addon is kept, for the bounces that come back.
RETENTION_PARAM = "equisis_mail.sent_mail_retention_days"
RETENTION_DAYS = 7
GC_BATCH = 1000
# Mails whose outcomes are recorded together, after their commit, while a
# ``send`` delivers many: the context key of their ``_Waiting`` ids.
RECORD_KEY = "equisis_mail_to_record"
RECORD_BATCH = 50


class _Waiting:
    """Ids of the mails a ``send`` delivered whose outcome is not recorded
    yet. In the context, not in ``cr.cache``, which each commit clears."""

    __slots__ = ("ids",)

    def __init__(self):
        self.ids = []


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
    equisis_batch_id = fields.Many2one(
        "equisis.mail.batch",
        string="Background Batch",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The background batch this mail belongs to: its sender is told "
        "once the whole batch is done.",
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
        """A mail sent again has a new outcome to record, and whatever an
        earlier hand-off to SMTP said is answered by this deliberate send."""
        ours = self.filtered("equisis_model")
        ours.write({"equisis_reported": False, "equisis_refused": False})
        # An outgoing mail's hand-offs still guard it.
        failed = ours.filtered(lambda mail: mail.state != "outgoing")
        if failed:
            self.env["equisis.mail.handoff"]._equisis_forget(failed.ids)
        return super().mark_outgoing()

    def send(self, auto_commit=False, raise_exception=False, post_send_callback=None):
        """Leave out the mails of this addon that another process holds or
        has sent, before the host counts them against a personal server's
        limit (it writes that count on the server's row, which two processes
        cannot both update)."""
        mails = self
        ours = self.filtered("equisis_model")
        if ours:
            try:
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                    held = ours.try_lock_for_update(allow_referencing=True)
            except psycopg2.errors.SerializationFailure:
                held = ours.filtered(lambda mail: mail._equisis_take())
            held.invalidate_recordset(["state"])
            mails = (self - ours) | held.filtered(lambda mail: mail.state == "outgoing")
        outermost = not isinstance(self.env.context.get(RECORD_KEY), _Waiting)
        if outermost:
            waiting = _Waiting()
            mails = mails.with_context(**{RECORD_KEY: waiting})
        try:
            return super(MailMail, mails).send(
                auto_commit=auto_commit,
                raise_exception=raise_exception,
                post_send_callback=post_send_callback,
            )
        finally:
            if outermost:
                self._equisis_record_after_commit(waiting.ids)

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        """Hand each mail of this addon to SMTP once, whoever sends it.

        The window's delivery, the background run and the host's mail queue
        may hold the same outgoing mail at once, each in its own process. The
        host writes a mail's state before its SMTP step, but lazily: another
        process sees it only after the flush. Here each mail of this addon is
        taken first: its row is locked (``SKIP LOCKED``) and its state read
        anew; a mail another process holds or has sent is left to it. The
        lock lasts until the mail's outcome is committed.

        Before its SMTP transaction, each mail's hand-off is committed on a
        cursor of its own (``equisis.mail.handoff``): a process that dies
        after the server accepted the mail and before its state is committed
        leaves that trace, and the next process that takes the mail fails it
        as "may have left" instead of sending it again.

        A dropped SMTP session fails the mail it dropped on, and only that
        one; the mails not tried yet keep their state and go with the host's
        mail queue. Lost once the whole message went (its final dot
        written), the mail fails as one that may have left: only the server's
        answer may be what was lost, and a user who retries it is told to
        check first.
        """
        ours = self.filtered("equisis_model")
        others = self - ours
        kwargs = {
            "auto_commit": auto_commit,
            "raise_exception": raise_exception,
            "smtp_session": smtp_session,
            "alias_domain_id": alias_domain_id,
            "mail_server": mail_server,
            "post_send_callback": post_send_callback,
        }
        if others or not ours:
            super(MailMail, others)._send(**kwargs)
        if ours and not ours._equisis_hold_server(mail_server):
            # Another process is sending through this personal server right
            # now: the host's queue sends these a minute later.
            self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger(
                fields.Datetime.add(fields.Datetime.now(), minutes=1)
            )
            return True
        for mail in ours:
            if not mail._equisis_take():
                continue
            self.env.cr.cache[HANDOFF_KEY] = mail.id
            try:
                super(MailMail, mail)._send(**kwargs)
            except smtplib.SMTPServerDisconnected as error:
                if self.env.cr.cache.get(DATA_KEY) == mail.id:
                    reason = self.env._(
                        "This mail may have left: the connection to the mail "
                        "server was lost after the mail was handed over, before "
                        "the server answered (%(error)s). Check with the "
                        "recipient, or in your copies, before you use “Retry "
                        "e-mail”.",
                        error=error,
                    )
                else:
                    reason = self.env._(
                        "The mail server closed the connection: %(error)s",
                        error=error,
                    )
                mail._equisis_fail(reason)
                self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
                break
            finally:
                self.env.cr.cache.pop(HANDOFF_KEY, None)
                self.env.cr.cache.pop(DATA_KEY, None)
        return True

    def _equisis_hold_server(self, mail_server):
        """Write the personal server's count of mails now, before any SMTP
        step, or learn that another process is writing it.

        The host counts a personal server's mails on the server's row before
        sending, and writes that count lazily: left to the first flush after
        the SMTP step, a concurrent update would fail the transaction and put
        a mail already accepted back in the queue.
        """
        if not mail_server or not mail_server.owner_user_id:
            return True
        counters = ["owner_limit_count", "owner_limit_time"]
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                mail_server.flush_recordset(counters)
        except psycopg2.errors.SerializationFailure:
            mail_server.invalidate_recordset(counters, flush=False)
            return False
        return True

    def _equisis_take(self):
        """Whether this process may hand this mail to SMTP: it holds the
        mail's row, the mail is still outgoing in the database, and no
        process handed it to SMTP before without recording what came of it
        (such a mail is failed, as one that may have left)."""
        self.ensure_one()
        # A state this transaction wrote goes first, outside the savepoint:
        # rolling back part of a flush would undo other mails' writes too.
        self.flush_recordset(["state"])
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                # The lock, the state and this transaction's id in one
                # statement: it runs once per mail.
                self.env.cr.execute(
                    SQL(
                        "SELECT state, pg_current_xact_id()::text FROM %s "
                        "WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                        SQL.identifier(self._table),
                        self.id,
                    )
                )
                row = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            # Changed by a transaction committed after ours began: sent by
            # another process, or about to be.
            return False
        self.invalidate_recordset(["state"], flush=False)
        if not row or row[0] != "outgoing":
            return False
        self.env.cr.cache[TRANSACTION_KEY] = row[1]
        fate = self.env["equisis.mail.handoff"]._equisis_fate(self.id)
        if fate == "unknown":
            # Said in the sender's language, whoever takes the mail.
            env = self.with_context(lang=self.author_id.lang or self.env.lang).env
            self._equisis_fail(
                env._(
                    "This mail may have left: it was handed to the mail server, "
                    "and the process sending it stopped before the server's "
                    "answer was recorded. Check with the recipient, or in your "
                    "copies, before you use “Retry e-mail”."
                )
            )
        return not fate

    def _equisis_fail(self, reason):
        """Fail this mail for a reason the host's delivery does not know."""
        _logger.info("Mail %s failed: %s", self.ids, reason)
        self.write(
            {
                "state": "exception",
                "failure_reason": reason,
                "failure_type": "mail_smtp",
            }
        )
        self._postprocess_sent_message(
            success_pids=[],
            success_emails=[],
            failure_reason=reason,
            failure_type="mail_smtp",
        )

    def _postprocess_sent_message(
        self, success_pids, success_emails, failure_reason=False, failure_type=None
    ):
        """Record on each document what became of its mail, whoever
        delivered it (this addon, or the host's queue and its failed-mail
        screens).

        The mail's own state is committed first (the host commits each mail
        after this hook): recording on the document happens right after that
        commit, on a cursor of its own, so that the time between the SMTP
        server's answer and the commit, when a process that dies would leave
        an accepted mail outgoing, stays as short as the host makes it. What
        could not be recorded is recorded by the background run.
        """
        ours = self.filtered("equisis_model")
        if ours:
            refused = self.env.cr.cache.get(REFUSED_KEY, {})
            answers = {
                mail.message_id: refused.pop(mail.message_id)
                for mail in ours
                if mail.state in ("sent", "exception") and mail.message_id in refused
            }
            ours.filtered(lambda mail: mail.message_id in answers)._equisis_set_refused(
                answers
            )
            if modules.module.current_test:
                ours._equisis_record()
            elif isinstance(self.env.context.get(RECORD_KEY), _Waiting):
                # Inside ``send``: recorded together, every RECORD_BATCH
                # mails and when it ends.
                waiting = self.env.context[RECORD_KEY]
                waiting.ids.extend(ours.ids)
                if len(waiting.ids) >= RECORD_BATCH:
                    self._equisis_record_after_commit(waiting.ids)
                    waiting.ids = []
            else:
                self._equisis_record_after_commit(ours.ids)

        return super()._postprocess_sent_message(
            success_pids,
            success_emails,
            failure_reason=failure_reason,
            failure_type=failure_type,
        )

    def _equisis_record_after_commit(self, mail_ids):
        """Record these mails' outcomes once their state is committed, on a
        cursor of their own. What a process that dies first, or a rollback
        after them, leaves unrecorded, the background run records."""
        if not mail_ids:
            return
        dbname = self.env.cr.dbname

        @self.env.cr.postcommit.add
        def record():
            with Registry(dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["mail.mail"].browse(mail_ids)._equisis_record()

    def _equisis_record(self):
        """Record these mails' outcomes on their documents, and tell the
        sender of a batch that is done (a mail the personal server's limit
        held back may be the last of its batch)."""
        self._equisis_report()
        try:
            with self.env.cr.savepoint():
                self.sudo().equisis_batch_id._close_when_done()
        except Exception:  # pylint: disable=broad-exception-caught
            # Never turn a delivered mail into a failed one: the next
            # background run closes the batch.
            _logger.warning("Could not close the batch of %s", self.ids, exc_info=True)

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
        """Send these mails now through the host's ``send``.

        Each accepted mail is committed at once (the host's ``auto_commit``,
        off in tests), with its outcome on its document, so that nothing that
        happens after can put it back in the queue. Mails held back by the
        personal server's limit stay in the host's queue, which sends them
        the next minute.
        """
        self.send(auto_commit=not modules.module.current_test)

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
        flag and the refused recipients, or the failure.

        It runs after the SMTP step (in tests, inside the host's delivery):
        whatever goes wrong here must not turn a delivered mail into a failed
        one, so it is logged and the background run records the outcome
        later.
        """
        done = self.filtered(
            lambda mail: (
                mail.equisis_model
                and not mail.equisis_reported
                and mail.state in ("sent", "exception")
            )
        )
        if not done:
            return
        # Recording an outcome is not the sender's to allow.
        service = self.env["equisis.mail.service"].sudo()
        try:
            with self.env.cr.savepoint():
                for model, documents in service._by_model(
                    (mail.equisis_model, mail.equisis_res_id) for mail in done
                ).items():
                    mails = done.filtered(
                        lambda mail, model=model: mail.equisis_model == model
                    )
                    sent = mails.filtered(lambda mail: mail.state == "sent")
                    failed = mails - sent
                    documents = documents.exists()
                    # Each document is told of its own mail only: a model's
                    # step for a sent document (the invoice's sent flag, the
                    # quotation's state) must not reach a failed one.
                    sent_ids = set(sent.mapped("equisis_res_id"))
                    failed_ids = set(failed.mapped("equisis_res_id"))
                    if sent:
                        documents.filtered(
                            lambda d, ids=sent_ids: d.id in ids
                        )._equisis_mark_sent(sent)
                    if failed:
                        documents.filtered(
                            lambda d, ids=failed_ids: d.id in ids
                        )._equisis_mark_failed(failed)
                done.equisis_reported = True
        except Exception as error:  # noqa: BLE001 # pylint: disable=broad-exception-caught
            _logger.warning(
                "Could not record the outcome of mails %s yet: %s", done.ids, error
            )
            self.env.ref("equisis_mail.ir_cron_equisis_send").sudo()._trigger(
                fields.Datetime.add(fields.Datetime.now(), minutes=1)
            )

    @api.autovacuum
    def _gc_equisis_sent_mails(self):
        """Delete the sent mails of this addon, as the host deletes its own,
        once their outcome is on their documents and a bounce is no longer
        to be expected (servers give up on a mail after 5 days by default).

        Their chatter messages and files stay; so do failed mails, which
        Retry needs, until they are sent.

        :return: (deleted, whether more are left)
        """
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(RETENTION_PARAM, RETENTION_DAYS)
        )
        mails = self.sudo().search(
            [
                ("equisis_model", "!=", False),
                ("state", "=", "sent"),
                ("equisis_reported", "=", True),
                # Deleting it would delete its chatter message too.
                ("is_notification", "=", True),
                # The summary of a batch counts its mails.
                "|",
                ("equisis_batch_id", "=", False),
                ("equisis_batch_id.done", "=", True),
                (
                    "write_date",
                    "<",
                    fields.Datetime.subtract(fields.Datetime.now(), days=days),
                ),
            ],
            limit=GC_BATCH,
        )
        mails.unlink()
        return len(mails), len(mails) == GC_BATCH

    def _equisis_document(self):
        """The document this mail of the addon carries (empty if deleted)."""
        self.ensure_one()
        if not self.equisis_model:
            return None
        return self.env[self.equisis_model].browse(self.equisis_res_id).exists()
