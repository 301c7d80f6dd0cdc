# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import math
import resource
import threading
import time
from collections import defaultdict
from datetime import timedelta

import psycopg2
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, LockError, UserError, ValidationError
from odoo.tools import SQL, clean_context, config, mute_logger

from odoo.addons.base.models.ir_cron import MIN_TIME_PER_JOB

from ..utils.addresses import split_recipients
from .account_move_send import wkhtmltopdf_renders_batches
from .equisis_mail_attempt import STOPPED_ALONE_LIMIT

_logger = logging.getLogger(__name__)

# Above this many documents, sending goes to the background.
BACKGROUND_THRESHOLD_PARAM = "equisis_mail.background_threshold"
BACKGROUND_THRESHOLD = 20
# Documents that go through the host's pipeline together in the background:
# with a wkhtmltopdf with patched Qt, their PDFs are rendered in one call.
CHUNK_PARAM = "equisis_mail.chunk_size"
CHUNK = 50
# Each wkhtmltopdf call waits Odoo's print delay (``report.print_delay``,
# 1000 ms by default) twice, and wkhtmltopdf's CPU per invoice grows with
# the invoices of a call: with the delay, fewer and larger calls are
# quicker; without it, smaller ones. The chunk goes from this size at no
# delay to ``CHUNK`` at Odoo's default delay (measured with ``bench/``:
# 200 invoices took 22.6 s in chunks of 50 and 29.2 s in chunks of 20 at
# the default delay, 19.9 s and 15.6 s at no delay).
CHUNK_NO_DELAY = 20
PRINT_DELAY_PARAM = "report.print_delay"
DEFAULT_PRINT_DELAY = 1000
# Without patched Qt, wkhtmltopdf renders one document per call, each
# waiting Odoo's print delay: a chunk stays this small (as Odoo's own
# invoice-sending cron does), far within the time Odoo gives a scheduled
# action (``limit_time_real``, 120 s by default). A chunk cut short there
# would commit nothing, and be taken again, and cut short again.
CHUNK_ONE_PER_CALL = 10
# The background run's scheduled actions ("lanes"). Odoo runs each one at a
# time; with its default two cron threads both run at once, each on chunks
# of its own, so that one renders while the other waits for wkhtmltopdf or
# the mail server.
LANES = ("equisis_mail.ir_cron_equisis_send", "equisis_mail.ir_cron_equisis_send_lane")
# A queue shorter than a chunk per lane is shared between the lanes, in
# chunks of at least this many documents.
MIN_CHUNK = 10
# A lane that sent no chunk for this many seconds is rested: see
# ``_send_queue``.
LANE_REST = 10
# A lane's run takes no new chunk after this many seconds past the time Odoo
# gives it (10 s): Odoo restarts a server whose cron thread runs longer than
# its limit_time_real (120 s by default), and kills such a cron worker.
RUN_OVERTIME = 50
# A run takes no new chunk with less CPU time than this left before its
# process's limit (a chunk's Python takes a few seconds): Odoo's workers
# (``--workers``) limit the CPU time of each pass of a cron worker
# (``limit_time_cpu``, 60 s by default), and a worker past it exits in the
# middle of its chunk, as if killed (see ``equisis.mail.attempt``).
CPU_MARGIN = 15
# A mail of this addon still outgoing after this long was left by a process
# that died after committing it: the background run delivers it. Taking a
# mail is safe at any time (``mail.mail._equisis_take``); the delay only
# leaves the window's own delivery the first go.
ORPHAN_MINUTES = 1


def cpu_seconds_left():
    """The CPU seconds this process may still use before the system signals
    it (Odoo's workers set that limit anew for each pass), or None without a
    limit (Odoo's threaded server)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_CPU)
    if soft == resource.RLIM_INFINITY:
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return soft - usage.ru_utime - usage.ru_stime


class EquisisMailService(models.AbstractModel):
    """The sending service, apart from the documents it sends.

    It checks a request with the rights of the user who makes it, asks each
    document's own layer for its files (for invoices, the host's invoice
    document pipeline), creates one ``mail.mail`` per document and hands it
    to the host's delivery. The send window, the background run and *Retry*
    all go through it. The sender is always ``self.env.user``: in the
    background run, the user who queued the mail (the queue record's
    ``create_uid``), never a value that a user can write.

    A document model takes part by defining ``_equisis_print_reports``,
    ``_equisis_mail_files`` and ``_equisis_mark_sent``.
    """

    _name = "equisis.mail.service"
    _description = "Document Mail Sending Service"

    # ------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------

    @api.model
    def _send(self, values_by_record):
        """Send each document with its own values, as the current user.

        :param values_by_record: {record: {"email_to": [addresses], "subject":
            str, "body": html, "attachment_ids": [annex ids], "report_id": id,
            "bcc": bool}}
        :return: {"mails": mail.mail created, "queued": number of documents
            left to the background run, "errors": {record: reason not sent}}
        """
        # The caller's ``default_*`` keys would fill in the mails, messages
        # and files made here as superuser (a mail's attachments, say).
        return self.with_context(clean_context(self.env.context))._send_documents(
            {
                record.with_context(clean_context(record.env.context)): values
                for record, values in values_by_record.items()
            }
        )

    @api.model
    def _send_documents(self, values_by_record):
        records = list(values_by_record)
        self._check_document_models(records)
        self._claim(records)
        busy = [
            document
            for documents in self._by_model(records).values()
            for document in self._waiting(documents)
        ]
        if busy:
            raise UserError(
                self.env._(
                    "These documents are already waiting to be sent: %(names)s",
                    names=", ".join(document.display_name for document in busy),
                )
            )
        self._check_request(values_by_record)
        if len(records) > self._background_threshold():
            self._enqueue(values_by_record)
            return {
                "mails": self.env["mail.mail"],
                "queued": len(records),
                "errors": {},
            }
        mails, errors = self._prepare_mails(values_by_record)
        mails._equisis_deliver_after_commit()
        return {"mails": mails, "queued": 0, "errors": errors}

    @api.model
    def _supersede_failed_mails(self, records):
        """Cancel the failed mails of documents sent anew: "Retry e-mail"
        sends a document's latest attempt, never an older mail with what it
        said then."""
        Mail = self.env["mail.mail"].sudo()
        for model, documents in self._by_model(records).items():
            Mail.search(
                [
                    ("equisis_model", "=", model),
                    ("equisis_res_id", "in", documents.ids),
                    ("state", "=", "exception"),
                ]
            ).cancel()

    @api.model
    def _retry(self, records):
        """Send again the failed mails of these documents, and only those:
        the latest mail of each, and only the current user's own mails,
        which leave as they were written."""
        self._check_document_models(records)
        self._claim(records)
        # The status follows the latest mail: a document sent or queued
        # again since is not "failed"; one sent before its latest mail
        # failed is.
        failed = records.filtered(lambda record: record.equisis_mail_state == "failed")
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("equisis_model", "=", records._name),
                    ("equisis_res_id", "in", failed.ids),
                    ("state", "=", "exception"),
                ],
                order="id",
            )
        )
        latest = {mail.equisis_res_id: mail for mail in mails}
        others = [
            mail
            for mail in latest.values()
            if mail.mail_message_id.create_uid != self.env.user
        ]
        if others:
            raise UserError(
                self.env._(
                    "Only the sender can send a failed e-mail again: %(details)s. "
                    "Send the document anew from the send window instead.",
                    details=", ".join(
                        f"{mail._equisis_document().display_name} "
                        f"({mail.mail_message_id.create_uid.name})"
                        for mail in others
                    ),
                )
            )
        to_retry = self.env["mail.mail"].sudo().browse([m.id for m in latest.values()])
        if not to_retry:
            never_made = failed.filtered(lambda record: record.id not in latest)
            if never_made:
                raise UserError(self._never_made_message(never_made))
            raise UserError(self.env._("There is no failed e-mail to send again."))
        self._check_retry(records, to_retry)
        to_retry.mark_outgoing()
        # Once a bounced address is replaced by the document's current ones.
        self._check_retry(records, to_retry, recipients=True)
        failed.filtered(lambda record: record.id in latest)._equisis_set_mail_state(
            "queued"
        )
        to_retry._equisis_deliver_after_commit()
        return to_retry

    @api.model
    def _check_retry(self, records, mails, recipients=False):
        """Refuse to send again what the window would refuse now: a document
        cancelled or back to draft since its mail failed, or with
        ``recipients``, an address that asked for no more mail since."""
        problems = []
        for mail in mails:
            record = records.browse(mail.equisis_res_id)
            if recipients:
                problem = record._equisis_recipient_problem(
                    split_recipients(mail.email_to or "")[0]
                )
            else:
                problem = record._equisis_document_problem()
            if problem:
                problems.append(f"{record.display_name}: {problem}")
        if problems:
            raise UserError(
                self.env._(
                    "Nothing was sent again:\n%(problems)s\nFix the cause, or "
                    "send the document anew from the send window.",
                    problems="\n".join(problems),
                )
            )

    @api.model
    def _never_made_message(self, records):
        """For failed documents whose mail was never made: there is none to
        send again."""
        return self.env._(
            "The e-mail of %(names)s was never made, so there is none to send "
            "again: fix the cause shown on the document, then send it from "
            "the send window.",
            names=", ".join(records.mapped("display_name")),
        )

    # ------------------------------------------------------------
    # Checks, as the user who asks
    # ------------------------------------------------------------

    @api.model
    def _check_document_models(self, records):
        """Refuse records of a model that does not take part (a send line
        names its document by model and id, which a user can write)."""
        models_ = self.env["equisis.mail.document"]._equisis_document_models()
        for record in records:
            if record._name not in models_:
                raise AccessError(
                    self.env._(
                        "Documents of the kind %(model)s cannot be sent here.",
                        model=record._name,
                    )
                )

    @api.model
    def _claim(self, records):
        """Claim these documents for this transaction, or refuse them when
        another user is sending them right now.

        The rows are updated, not only locked: a concurrent request whose
        snapshot predates our commit then fails to serialize, and the host's
        retry sees the documents sent or queued instead of mailing them again.
        """
        for documents in self._by_model(records).values():
            documents._equisis_check_send_access()
            try:
                # Others may still reference the documents (payments, messages).
                documents.lock_for_update(allow_referencing=True)
            except LockError as error:
                raise UserError(
                    self.env._(
                        "Some of these documents are being sent by someone else "
                        "right now. Try again in a moment."
                    )
                ) from error
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET write_date = write_date WHERE id IN %s",
                    SQL.identifier(documents._table),
                    tuple(documents.ids),
                )
            )

    @api.model
    def _by_model(self, references):
        """Documents, one recordset per model: the one way this addon groups
        what it sends (documents, send lines, mails all name a document by
        model and id).

        :param references: records, or ``(res_model, res_id)`` pairs
        :return: {model: recordset, in this environment}
        """
        ids_by_model = defaultdict(dict)
        for reference in references:
            model, res_id = (
                reference
                if isinstance(reference, tuple)
                else (reference._name, reference.id)
            )
            ids_by_model[model][res_id] = None
        return {
            model: self.env[model].browse(list(ids))
            for model, ids in ids_by_model.items()
        }

    @api.model
    def _waiting(self, documents):
        """The documents among these whose mail is on its way: queued,
        outgoing, or delivered but not yet recorded on the document."""
        queued = (
            self.env["equisis.mail.queue"]
            .sudo()
            .search(
                [("res_model", "=", documents._name), ("res_id", "in", documents.ids)]
            )
        )
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("equisis_model", "=", documents._name),
                    ("equisis_res_id", "in", documents.ids),
                    "|",
                    ("state", "=", "outgoing"),
                    # Delivered, or refused, and not recorded on the
                    # document yet: sending it now could mail it twice.
                    "&",
                    ("equisis_reported", "=", False),
                    ("state", "in", ("sent", "exception")),
                ]
            )
        )
        return documents.browse(
            set(queued.mapped("res_id")) | set(mails.mapped("equisis_res_id"))
        )

    @api.model
    def _last_sent(self, references):
        """When each document's latest mail of this addon left, and to whom,
        as recorded on the document (sent mails themselves are deleted in
        time, as the host deletes its own).

        Read as superuser: callers say it only of documents the user may read.

        :param references: records, or ``(res_model, res_id)`` pairs
        :return: {(model, id): (date, recipients)} for documents mailed before
        """
        result = {}
        for model, documents in self.sudo()._by_model(references).items():
            for document in documents.exists():
                if document.equisis_mail_sent_date:
                    result[(model, document.id)] = (
                        document.equisis_mail_sent_date,
                        document.equisis_mail_sent_to,
                    )
        return result

    @api.model
    def _check_request(self, values_by_record):
        """Refuse what the current user may not send, as if they attached
        every file now: documents they may not change, files they may not
        read, reports that are not a print form of the document."""
        self.env.user._equisis_check_sender_address()
        for documents in self._by_model(values_by_record).values():
            documents._equisis_check_send_access()
        Attachment = self.env["ir.attachment"]
        # One look-up per kind of document, not per document.
        reports_by_kind = {}
        for record, values in values_by_record.items():
            record = record.with_env(self.env)
            kind = (record._name, record._equisis_letter_target())
            if kind not in reports_by_kind:
                reports_by_kind[kind] = record._equisis_print_reports()
            annexes = Attachment.browse(values.get("attachment_ids") or [])
            if annexes - annexes.exists():
                raise UserError(
                    self.env._(
                        "An annex of %(document)s no longer exists.",
                        document=record.display_name,
                    )
                )
            annexes.check_access("read")
            report = self.env["ir.actions.report"].browse(values.get("report_id"))
            # A document without a report of its own (a contact) goes without.
            with_report = report or record._equisis_default_report()
            if with_report and report not in reports_by_kind[kind]:
                raise AccessError(
                    self.env._(
                        "The report %(report)s is not a print form of %(document)s.",
                        report=report.sudo().name or report.id,
                        document=record.display_name,
                    )
                )
            valid, invalid = split_recipients("; ".join(values.get("email_to") or []))
            if invalid or not valid:
                raise UserError(
                    self.env._(
                        "%(document)s has no valid recipient.",
                        document=record.display_name,
                    )
                )
            problem = record._equisis_recipient_problem(valid)
            if problem:
                raise UserError(problem)

    @api.model
    def _background_threshold(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(BACKGROUND_THRESHOLD_PARAM, BACKGROUND_THRESHOLD)
        )

    # ------------------------------------------------------------
    # Mails
    # ------------------------------------------------------------

    @api.model
    def _enqueue(self, values_by_record):
        """Leave the mails to the background run; the queue records are made
        by this user (their ``create_uid``) and by no one else."""
        batch = (
            self.env["equisis.mail.batch"]
            .sudo()
            .create({"document_count": len(values_by_record)})
        )
        entries = (
            self.env["equisis.mail.queue"]
            .sudo()
            .create(
                [
                    {
                        "res_model": record._name,
                        "res_id": record.id,
                        "values": values,
                        "batch_id": batch.id,
                        "sent_when_queued": record._equisis_is_sent(),
                    }
                    for record, values in values_by_record.items()
                ]
            )
        )
        for documents in self._by_model(values_by_record).values():
            documents._equisis_set_mail_state("queued")
        # A document that fails in the background says why on itself.
        self._supersede_failed_mails(list(values_by_record))
        self._schedule(entries)

    @api.model
    def _schedule(self, entries):
        """Have the background engine send these queue entries: Odoo's
        scheduled action here; ``equisis_mail_queue_job`` makes jobs."""
        for lane in LANES:
            self.env.ref(lane).sudo()._trigger()

    @api.model
    def _prepare_mails(self, values_by_record):
        """Make the files, log the messages and create the mails, as the
        current user, who is their sender.

        The request must have been checked (``_check_request``) as this user.

        :return: (mail.mail, {record: why it was not prepared})
        """
        user = self.env.user
        server = user.sudo().outgoing_mail_server_id
        files, errors = self._document_files(values_by_record)
        mail_values = []
        for record, values in values_by_record.items():
            if record in errors:
                continue
            attachments = files[record] | self.env["ir.attachment"].browse(
                values.get("attachment_ids") or []
            )
            recipients = values["email_to"]
            log_body = Markup("%s%s") % (
                Markup("<p>%s</p>")
                % self.env._(
                    "E-mail to %(recipients)s", recipients="; ".join(recipients)
                ),
                Markup(values["body"] or ""),
            )
            message = record._message_log(
                body=log_body,
                subject=values["subject"],
                author_id=user.partner_id.id,
                email_from=user.email_formatted,
                message_type="comment",
                attachment_ids=attachments.ids,
            )
            # Files made for this mail, and the sender's own uploads, belong
            # to its message only, as in the host's Print & Send: never
            # proposed again as annexes. Nobody else's file is moved.
            own = files[record] | attachments.filtered(
                lambda a: a.create_uid == user and not a.public
            )
            own.filtered(lambda a: not a.res_model).sudo().write(
                {"res_model": "mail.message", "res_id": message.id}
            )
            mail_values.append(
                {
                    "mail_message_id": message.id,
                    "body_html": values["body"],
                    "email_to": ", ".join(recipients),
                    "email_from": user.email_formatted,
                    "mail_server_id": server.id or False,
                    "equisis_model": record._name,
                    "equisis_res_id": record.id,
                    "equisis_bcc": user.email_normalized
                    if values.get("bcc")
                    else False,
                    # Kept once sent, for its bounces, then deleted by
                    # ``_gc_equisis_sent_mails``; as a notification of its
                    # chatter message, deleting it keeps that message.
                    "auto_delete": False,
                    "is_notification": True,
                    "state": "outgoing",
                }
            )
        # Only a document that gets its new mail: one whose files failed
        # keeps its failed mail, and its reason.
        self._supersede_failed_mails(
            [record for record in values_by_record if record not in errors]
        )
        mails = self.env["mail.mail"].sudo().create(mail_values)
        for documents in self._by_model(
            record for record in values_by_record if record not in errors
        ).values():
            documents._equisis_set_mail_state("queued")
        return mails, errors

    @api.model
    def _document_files(self, values_by_record):
        """Each document's files, made by its own layer.

        :return: ({record: ir.attachment}, {record: why its files could not be made})
        """
        files, errors = {}, {}
        for documents in self._by_model(values_by_record).values():
            made, failed = documents._equisis_mail_files(
                {
                    record.id: self.env["ir.actions.report"].browse(
                        values_by_record[record]["report_id"]
                    )
                    for record in documents
                }
            )
            for record_id, attachments in made.items():
                files[documents.browse(record_id)] = attachments
            for record_id, error in failed.items():
                errors[documents.browse(record_id)] = error
        return files, errors

    # ------------------------------------------------------------
    # Background run
    # ------------------------------------------------------------

    @api.model
    def _cron_send(self):
        """Send the queued documents, each as the user who queued it, and
        do the upkeep: outcomes left to record, mails left behind, batches
        done.

        Odoo runs one instance of a scheduled action at a time, whatever the
        number of cron threads or servers; it calls it again while the
        progress it reports says entries remain. Each chunk goes through the
        host's document pipeline together (so that a wkhtmltopdf with patched
        Qt renders its PDFs in one call), and its mails leave right after.
        """
        self._record_outcomes()
        self._forget_guards()
        self._send_queue()
        self._deliver_left_behind()
        self._close_batches()

    @api.model
    def _forget_guards(self):
        """Drop the hand-offs and attempts that no longer guard anything."""
        self.env["equisis.mail.handoff"]._equisis_forget()
        self.env["equisis.mail.attempt"]._equisis_forget()

    @api.model
    def _cron_send_lane(self):
        """The second lane: chunks of the queue only, beside the first."""
        self._send_queue(out_of_step=True)

    @api.model
    def _send_queue(self, out_of_step=False):
        """Send chunks of the queue until it is empty or the run's time is
        up, and at least one: Odoo calls a scheduled action that reports
        progress up to 10 times in a row, and a call that does nothing ends
        the run. A run past its overtime ends, and calls the lane again at
        once: Odoo would leave the rest until a cron thread wakes up, up to a
        minute later. Chunks another lane holds are its own: when only those
        are left, this run reports nothing left, so that Odoo does not call
        it again at once.

        Two lanes that start together stay in step: both render their
        chunk's HTML at once (Python, which runs one thread at a time), then
        both wait for wkhtmltopdf, and a core is idle in each step. With
        ``out_of_step``, a rested lane starts with half a chunk, so that
        from then on it renders while the other waits for wkhtmltopdf.
        """
        Queue = self.env["equisis.mail.queue"].sudo()
        Cron = self.env["ir.cron"]
        Cron._commit_progress(remaining=Queue.search_count([]))
        if self._past_overtime():
            # Odoo's trigger wakes the cron threads once this run is over.
            Cron.browse(self.env.context.get("cron_id")).sudo()._trigger()
            return
        half = out_of_step and self._lane_rested()
        while True:
            entries = self._claim_chunk(half=half)
            half = False
            if not entries:
                Cron._commit_progress(remaining=0)
                break
            self._send_entries(entries)
            # Counted anew: a run past its time leaves entries of its chunk
            # queued (see ``_make_stopped_alone``).
            done = len(entries) - len(entries.exists())
            left = Cron._commit_progress(done, remaining=Queue.search_count([]))
            if left <= 0 or self._past_overtime():
                break

    @api.model
    def _past_overtime(self):
        """Whether the scheduled action's run, or the cron thread's pass it
        runs in, is past its time by more than ``RUN_OVERTIME``, or its
        process is near its CPU limit: it takes no new work then. Only
        Odoo's cron run counts (with its progress), not a context that came
        along."""
        end = self.env.context.get("cron_end_time")
        if end is None or not self.env.context.get("ir_cron_progress_id"):
            return False
        if time.monotonic() > end + RUN_OVERTIME:
            return True
        # Odoo's time limit counts from the start of the cron thread's pass,
        # which may have run another job before this one: its threaded
        # server notes that start on the thread (its workers do not).
        thread = threading.current_thread()
        started = getattr(thread, "start_time", None)
        if (
            getattr(thread, "type", None) == "cron"
            and started
            and time.time() > started + MIN_TIME_PER_JOB + RUN_OVERTIME
        ):
            return True
        if not config["workers"]:
            # A limit on the threaded server's process (``ulimit -t``) is not
            # set anew for each pass: nothing to wait for.
            return False
        left = cpu_seconds_left()
        return left is not None and left < min(CPU_MARGIN, config["limit_time_cpu"] / 2)

    @api.model
    def _lane_rested(self):
        """Whether the lane running now sent no chunk lately (Odoo's cron
        writes each run's progress when a chunk is sent)."""
        cron_id = self.env.context.get("cron_id")
        if not cron_id:
            return False
        since = fields.Datetime.now() - timedelta(seconds=LANE_REST)
        return (
            not self.env["ir.cron.progress"]
            .sudo()
            .search_count(
                [
                    ("cron_id", "=", cron_id),
                    ("done", ">", 0),
                    ("write_date", ">=", since),
                ],
                limit=1,
            )
        )

    @api.model
    def _claim_chunk(self, half=False):
        """Lock the next chunk of queue entries no other lane holds; a queue
        shorter than a chunk per lane is shared between the lanes.

        :param half: take half a chunk when the queue holds more than a
            chunk per lane (for a shorter queue, the lanes' one chunk each
            is quicker than a third one)
        :return: equisis.mail.queue, locked until the next commit
        """
        Queue = self.env["equisis.mail.queue"].sudo()
        for _attempt in range(2):
            queued = Queue.search_count([])
            size = self._share_size(queued)
            if half and queued > len(LANES) * self._chunk_size():
                size = max(size // 2, min(size, MIN_CHUNK))
            entries = self._lock_entries(Queue.search([], order="id"), limit=size)
            if entries is not None:
                return entries
            # Another lane sent a chunk since this snapshot began: a new one.
            self.env["ir.cron"]._commit_progress()
        return Queue.browse()

    @api.model
    def _lock_entries(self, entries, limit=None):
        """The entries this transaction could lock, skipping those another
        lane holds; None if another lane changed one since this
        transaction's snapshot began."""
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                return entries.try_lock_for_update(limit=limit)
        except psycopg2.errors.SerializationFailure:
            return None

    @api.model
    def _chunk_size(self):
        Param = self.env["ir.config_parameter"].sudo()
        size = Param.get_param(CHUNK_PARAM)
        size = int(size) if size else self._chunk_size_for_print_delay()
        if not wkhtmltopdf_renders_batches():
            size = min(size, CHUNK_ONE_PER_CALL)
        return size

    @api.model
    def _chunk_size_for_print_delay(self):
        """The chunk that suits Odoo's print delay (see ``CHUNK_NO_DELAY``)."""
        delay = self.env["ir.config_parameter"].sudo().get_param(PRINT_DELAY_PARAM)
        try:
            delay = int(delay) if delay else DEFAULT_PRINT_DELAY
        except ValueError:
            delay = DEFAULT_PRINT_DELAY
        delay = min(max(delay, 0), DEFAULT_PRINT_DELAY)
        return CHUNK_NO_DELAY + round(
            (CHUNK - CHUNK_NO_DELAY) * delay / DEFAULT_PRINT_DELAY
        )

    @api.model
    def _share_size(self, queued):
        """The size of the next chunk: a chunk, or for fewer documents than
        a chunk per lane, a share of them, so that both lanes work."""
        share = math.ceil(queued / len(LANES))
        return min(self._chunk_size(), max(share, MIN_CHUNK))

    @api.model
    def _send_entries(self, entries):
        """Make and deliver the mails of these queue entries.

        A document's mail and the removal of its queue entry are committed
        together, after the document pipeline: a pipeline step that commits
        (several localisations' e-invoice services do) commits no mail, so
        a run that stops anywhere leaves each document either queued, with
        no mail, or with its one mail and no queue entry. A document whose
        files fail for any reason is told so and the others go on.

        :return: the mails delivered
        """
        mails = self.env["mail.mail"].sudo()
        for (author, company), entry_by_record in self._entry_groups(entries):
            mails |= self._make_group(author, company, entry_by_record)
        mails._equisis_deliver()
        return mails

    @api.model
    def _entry_groups(self, entries):
        """The entries by sender and company; those of deleted documents are
        removed.

        :return: [((res.users, res.company), {record: queue entry})]
        """
        groups = defaultdict(dict)
        for documents in self._by_model(
            (entry.res_model, entry.res_id) for entry in entries
        ).values():
            existing = documents.exists()
            for entry in entries.filtered(
                lambda entry, model=documents._name: entry.res_model == model
            ):
                document = existing.browse(entry.res_id) & existing
                if not document:
                    entry.unlink()
                    continue
                key = (entry.create_uid, document.sudo().company_id)
                groups[key][document] = entry
        return list(groups.items())

    @api.model
    def _make_group(self, author, company, entry_by_record):
        """Make the mails of one sender and company; on an error no check
        foresaw, start again from the last commit one document at a time, so
        that only the document at fault fails. A process stopped in the
        middle (see ``equisis.mail.attempt``) is dealt with in the same way
        when the entries are taken again.

        Each transaction locks its entries anew: a commit released them,
        and what another lane took since is its own.

        :return: the mail.mail made and committed
        """
        entry_by_record = self._still_queued(entry_by_record)
        if not entry_by_record:
            return self.env["mail.mail"].sudo()
        Attempt = self.env["equisis.mail.attempt"]
        entries = (
            self.env["equisis.mail.queue"].sudo().concat(*entry_by_record.values())
        )
        stopped = Attempt._equisis_stopped(entries)
        if stopped and len(entry_by_record) > 1:
            return self._make_stopped_alone(author, company, entry_by_record, stopped)
        if stopped and stopped[entries.id][1] >= STOPPED_ALONE_LIMIT:
            ((record, entry),) = entry_by_record.items()
            _logger.warning(
                "Mail of %s not made: its process stopped", record.display_name
            )
            self._fail_entry(
                record,
                entry,
                self.env._(
                    "Its documents could not be made: the server stopped each time "
                    "it was making them (a time or memory limit of the server, or "
                    "a restart). Send it again, or ask your administrator to look "
                    "at the server's log."
                ),
            )
            self.env["ir.cron"]._commit_progress()
            return self.env["mail.mail"].sudo()
        Attempt._equisis_begin(entries)
        try:
            return self._make_as(author, company, entry_by_record)
        except Exception as error:  # pylint: disable=broad-exception-caught
            self.env.cr.rollback()
            entry_by_record = self._still_queued(entry_by_record)
            if len(entry_by_record) > 1:
                _logger.info("A chunk failed: its documents are made one by one")
                mails = self.env["mail.mail"].sudo()
                for record, entry in entry_by_record.items():
                    mails |= self._make_group(author, company, {record: entry})
                return mails
            if not entry_by_record:
                return self.env["mail.mail"].sudo()
            ((record, entry),) = entry_by_record.items()
            _logger.warning(
                "Mail of %s not made: %s", record.display_name, error, exc_info=True
            )
            self._fail_entry(
                record,
                entry,
                self.env._("Its documents could not be made: %(error)s", error=error),
            )
            self.env["ir.cron"]._commit_progress()
            return self.env["mail.mail"].sudo()

    @api.model
    def _make_stopped_alone(self, author, company, entry_by_record, stopped):
        """Make the documents whose earlier attempt stopped its process one
        at a time, first, while the run is young (a worker is stopped for
        the whole run's time, not for one document's), then the others
        together: the one that stops it again then stops only itself, and
        fails once it did so alone often enough. Each mail leaves as soon as
        it is made, before the process may stop again. A run past its time
        leaves the rest queued, for the next run.

        :param stopped: {entry id: (attempts, attempts alone)}
        :return: the mail.mail made and committed
        """
        _logger.info("A process stopped while making these mails: one by one")
        groups = [
            {record: entry}
            for record, entry in entry_by_record.items()
            if entry.id in stopped
        ]
        others = {
            record: entry
            for record, entry in entry_by_record.items()
            if entry.id not in stopped
        }
        if others:
            groups.append(others)
        mails = self.env["mail.mail"].sudo()
        for group in groups:
            if self._past_overtime():
                break
            made = self._make_group(author, company, group)
            made._equisis_deliver()
            # What came of it is committed before the next document may stop
            # the process (as the host's auto_commit does, but not in tests).
            self.env["ir.cron"]._commit_progress()
            mails |= made
        return mails

    @api.model
    def _still_queued(self, entry_by_record):
        """The entries of ``entry_by_record`` that are still queued and that
        this transaction now holds.

        :return: {record: queue entry}
        """
        Queue = self.env["equisis.mail.queue"].sudo()
        entries = Queue.concat(*entry_by_record.values())
        held = self._lock_entries(entries) or entries.browse()
        return {
            record: entry for record, entry in entry_by_record.items() if entry in held
        }

    @api.model
    def _make_as(self, author, company, entry_by_record):
        """Make these documents' mails as their sender and commit them with
        the removal of their entries.

        :return: mail.mail
        """
        errors = {}
        mails = self.env["mail.mail"].sudo()
        if not author.active:
            errors = dict.fromkeys(
                entry_by_record,
                self.env._(
                    "Its sender, %(user)s, no longer has access.", user=author.name
                ),
            )
        else:
            service = self.with_user(author).with_company(company or author.company_id)
            values_by_record = {
                record.with_env(service.env): entry.values
                for record, entry in entry_by_record.items()
            }
            for record, entry in entry_by_record.items():
                try:
                    problem = service._problem_since_queued(
                        record.with_env(service.env), entry
                    )
                except AccessError as error:
                    problem = str(error)
                if problem:
                    errors[record] = problem
                    del values_by_record[record]
            try:
                service._check_request(values_by_record)
            except (AccessError, UserError, ValidationError):
                # Each document alone, to tell which may not go.
                for record, values in list(values_by_record.items()):
                    try:
                        service._check_request({record: values})
                    except (AccessError, UserError, ValidationError) as error:
                        errors[record.with_env(self.env)] = str(error)
                        del values_by_record[record]
            if values_by_record:
                mails, more_errors = service._prepare_mails(values_by_record)
                errors.update(
                    (record.with_env(self.env), error)
                    for record, error in more_errors.items()
                )
        batch_by_document = {
            (record._name, record.id): entry.batch_id
            for record, entry in entry_by_record.items()
        }
        for mail in mails:
            mail.equisis_batch_id = batch_by_document.get(
                (mail.equisis_model, mail.equisis_res_id)
            )
        sent = self.env["equisis.mail.queue"].sudo()
        for record, entry in entry_by_record.items():
            if record in errors:
                self._fail_entry(record, entry, errors[record])
            else:
                sent |= entry
        sent.unlink()
        self.env["ir.cron"]._commit_progress()
        return mails.with_env(self.env).sudo()

    @api.model
    def _problem_since_queued(self, record, entry):
        """Why a queued document may no longer go, as the window would have
        said when it was sent: its state changed (cancelled, back to draft),
        or it was sent from elsewhere while it waited."""
        problem = record._equisis_document_problem()
        if (
            not problem
            and record._equisis_sent_once()
            and record._equisis_is_sent()
            and not entry.sent_when_queued
        ):
            problem = self.env._(
                "%(name)s was sent from elsewhere while it waited to be sent.",
                name=record.display_name,
            )
        return problem

    @api.model
    def _fail_entry(self, record, entry, error):
        """Say on the document why its mail was not made, and keep it for
        its batch's summary."""
        self._log_not_sent(record, error)
        record._equisis_set_mail_state("failed", error)
        if entry.batch_id:
            entry.batch_id._add_not_sent(record, error)
        entry.unlink()

    @api.model
    def _deliver_left_behind(self):
        """Deliver the mails of this addon a process left outgoing when it
        died between their commit and their delivery: the host's mail queue
        would send them too, within the hour."""
        Mail = self.env["mail.mail"].sudo()
        now = fields.Datetime.now()
        due = [
            ("equisis_model", "!=", False),
            ("state", "=", "outgoing"),
            "|",
            ("scheduled_date", "=", False),
            ("scheduled_date", "<=", now),
        ]
        mails = Mail.search(
            [
                *due,
                (
                    "create_date",
                    "<",
                    fields.Datetime.subtract(now, minutes=ORPHAN_MINUTES),
                ),
            ],
            order="id",
        )
        mails._equisis_deliver()
        if Mail.search_count(due, limit=1):
            # Younger ones, left by a process that just died: next minute.
            self.env.ref("equisis_mail.ir_cron_equisis_send").sudo()._trigger(
                fields.Datetime.add(fields.Datetime.now(), minutes=ORPHAN_MINUTES)
            )
        return mails

    @api.model
    def _close_batches(self):
        """Tell each sender whose batch is done what became of it, once."""
        self.env["equisis.mail.batch"].sudo().search(
            [("done", "=", False)]
        )._close_when_done()

    @api.model
    def _record_outcomes(self):
        """Record what became of mails whose outcome is not on their
        document yet: their recording failed after the SMTP step."""
        self.env["mail.mail"].sudo().search(
            [
                ("equisis_model", "!=", False),
                ("equisis_reported", "=", False),
                ("state", "in", ("sent", "exception")),
            ]
        )._equisis_report()

    @api.model
    def _log_not_sent(self, record, error):
        record.sudo()._message_log(
            body=Markup("<p>%s</p><p>%s</p>")
            % (
                self.env._("The e-mail was not sent."),
                escape(error),
            )
        )
