# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from markupsafe import Markup, escape

from odoo import SUPERUSER_ID, Command, api, fields, models, modules, tools
from odoo.exceptions import LockError, UserError
from odoo.orm.environments import Transaction
from odoo.tools import SQL, split_every

from odoo.addons.base.models.ir_actions_report import _wkhtml

_logger = logging.getLogger(__name__)

# Above this many documents, sending goes to the background.
BACKGROUND_THRESHOLD_PARAM = "equisis_mail.background_threshold"
BACKGROUND_THRESHOLD = 20
CHUNK = 20
# wkhtmltopdf processes at once; mostly idle (the JavaScript delay).
PDF_WORKERS_PARAM = "equisis_mail.pdf_workers"
PDF_WORKERS = 8
# Documents whose HTML is prepared in one go before their PDFs start.
HTML_GROUP = 4


class AccountMove(models.Model):
    """The sending service: PDFs, one ``mail.mail`` per document, chatter,
    and the "sent" bookkeeping. The send window and the cron both call it."""

    _inherit = "account.move"

    equisis_send_data = fields.Json(copy=False, groups="base.group_user")
    equisis_mail_state = fields.Selection(
        selection=[
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("failed", "Failed"),
        ],
        string="E-mail Status",
        compute="_compute_equisis_mail_state",
        compute_sudo=True,
    )
    equisis_mail_failure = fields.Char(
        string="E-mail Failure",
        compute="_compute_equisis_mail_state",
        compute_sudo=True,
    )

    def _compute_equisis_mail_state(self):
        mails = self.env["mail.mail"].search(
            [("equisis_move_id", "in", self.ids)], order="id desc"
        )
        last_by_move = {}
        for mail in mails:
            last_by_move.setdefault(mail.equisis_move_id.id, mail)
        for move in self:
            mail = last_by_move.get(move.id)
            if move.equisis_send_data:
                move.equisis_mail_state = "queued"
                move.equisis_mail_failure = False
            elif not mail:
                move.equisis_mail_state = False
                move.equisis_mail_failure = False
            elif mail.state == "exception":
                move.equisis_mail_state = "failed"
                move.equisis_mail_failure = mail.failure_reason or self.env._(
                    "The mail server refused the mail."
                )
            elif mail.state in ("outgoing",):
                move.equisis_mail_state = "queued"
                move.equisis_mail_failure = False
            else:
                move.equisis_mail_state = "sent"
                move.equisis_mail_failure = False

    def action_equisis_open_send_wizard(self):
        """Open the send window on these documents (the list's Action menu)."""
        if not self:
            raise UserError(self.env._("Select the documents to send first."))
        wizard = self.env["equisis.mail.send"].create(
            {"move_ids": [Command.set(self.ids)]}
        )
        return wizard._reopen()

    # ------------------------------------------------------------
    # Sending service
    # ------------------------------------------------------------

    @api.model
    def _equisis_background_threshold(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(BACKGROUND_THRESHOLD_PARAM, BACKGROUND_THRESHOLD)
        )

    def _equisis_lock(self):
        """Claim these documents for this transaction, or refuse them when
        another user is sending them right now.

        The rows are updated, not only locked: a concurrent request whose
        snapshot predates our commit then fails to serialize, and the host's
        retry sees the documents sent or queued instead of mailing them again.
        """
        if not self:
            return
        try:
            # Others may still reference the documents (payments, messages).
            self.lock_for_update(allow_referencing=True)
        except LockError as error:
            raise UserError(
                self.env._(
                    "Some of these documents are being sent by someone else "
                    "right now. Try again in a moment."
                )
            ) from error
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET write_date = write_date WHERE id IN %s",
                tuple(self.ids),
            )
        )

    def _equisis_waiting(self):
        """The documents among these whose mail is queued and not sent yet."""
        return self.filtered("equisis_send_data") | (
            self.env["mail.mail"]
            .sudo()
            .search([("equisis_move_id", "in", self.ids), ("state", "=", "outgoing")])
            .equisis_move_id
        )

    def _equisis_send(self, values_by_move):
        """Send each document with its own values.

        :param values_by_move: {move: {"email_to": [addresses], "subject": str,
            "body": html, "attachment_ids": [annex ids], "report_id": id,
            "bcc": bool}}
        :return: "sent" when the mails were handed to the SMTP server in this
            transaction, "queued" when they go through the background queue.
        """
        moves = self.browse([move.id for move in values_by_move])
        moves._equisis_lock()
        busy = moves._equisis_waiting()
        if busy:
            raise UserError(
                self.env._(
                    "These documents are already waiting to be sent: %(names)s",
                    names=", ".join(busy.mapped("display_name")),
                )
            )

        data = {
            move.id: dict(values, author_user_id=self.env.uid)
            for move, values in values_by_move.items()
        }
        if len(moves) > self._equisis_background_threshold():
            # Bookkeeping only: no need to synchronise the invoices' lines.
            queue = moves.sudo().with_context(skip_invoice_sync=True)
            for move in queue:
                move.equisis_send_data = data[move.id]
            self.env.ref("equisis_mail.ir_cron_equisis_send")._trigger()
            return "queued"
        mails = moves._equisis_prepare_mails(data)
        mails._equisis_deliver_after_commit()
        return "sent"

    def _equisis_prepare_mails(self, data):
        """Render the PDFs, log the messages and create the mails.

        :param data: {move id: values as in ``_equisis_send``}
        :return: the ``mail.mail`` records, ready to leave
        """
        user = self.env.user
        server = user.sudo().outgoing_mail_server_id
        pdfs = self._equisis_render_pdfs(
            {
                move: self.env["ir.actions.report"].browse(data[move.id]["report_id"])
                for move in self
            }
        )
        mail_values = []
        for move in self:
            values = data[move.id]
            annexes = (
                self.env["ir.attachment"]
                .browse(values.get("attachment_ids") or [])
                .exists()
            )
            attachments = pdfs[move] | annexes
            recipients = values["email_to"]
            log_body = Markup("%s%s") % (
                Markup("<p>%s</p>")
                % self.env._(
                    "E-mail sent to %(recipients)s", recipients="; ".join(recipients)
                ),
                Markup(values["body"] or ""),
            )
            message = move._message_log(
                body=log_body,
                subject=values["subject"],
                author_id=user.partner_id.id,
                email_from=user.email_formatted,
                message_type="comment",
                attachment_ids=attachments.ids,
            )
            mail_values.append(
                {
                    "mail_message_id": message.id,
                    "body_html": values["body"],
                    "email_to": ", ".join(recipients),
                    "email_from": user.email_formatted,
                    "mail_server_id": server.id or False,
                    "equisis_move_id": move.id,
                    "equisis_bcc": user.email_normalized
                    if values.get("bcc")
                    else False,
                    "auto_delete": False,
                    "is_notification": False,
                    "state": "outgoing",
                }
            )
        return self.env["mail.mail"].sudo().create(mail_values)

    def _equisis_render_pdfs(self, report_by_move):
        """Make each document's PDF with the host's report engine.

        The host's legal invoice PDF is reused when it exists, and stored as
        the document's legal PDF when made, the way the host's Print & Send
        does.

        :return: {move: ir.attachment}
        """
        invoice_report = self.env.ref("account.account_invoices")
        result = {}
        to_render = defaultdict(list)
        for move, report in report_by_move.items():
            report = report or invoice_report
            if report == invoice_report and move.invoice_pdf_report_id:
                result[move] = move.invoice_pdf_report_id
            else:
                to_render[report].append(move)
        for report, moves in to_render.items():
            pdf_by_move = self._equisis_pdf_contents(report, moves)
            vals_list = []
            for move in moves:
                vals = {
                    "name": move._get_invoice_report_filename(report=report),
                    "raw": pdf_by_move[move],
                    "mimetype": "application/pdf",
                    "res_model": move._name,
                    "res_id": move.id,
                }
                if report == invoice_report and move.state == "posted":
                    vals["res_field"] = "invoice_pdf_report_file"
                vals_list.append(vals)
            attachments = self.env["ir.attachment"].sudo().create(vals_list)
            for move, attachment in zip(moves, attachments, strict=True):
                if attachment.res_field:
                    move.sudo().message_main_attachment_id = attachment
                    move.invalidate_recordset(
                        ["invoice_pdf_report_id", "invoice_pdf_report_file"]
                    )
                result[move] = attachment
        return result

    @api.model
    def _equisis_pdf_contents(self, report, moves):
        """PDF bytes of each document.

        A patched wkhtmltopdf renders many documents per call, split per
        document by the host. An unpatched one renders one document per call:
        its time is mostly the fixed JavaScript delay, spent idle, so the
        calls run side by side while the next documents' HTML is prepared.

        :return: {move: bytes}
        """
        Report = self.env["ir.actions.report"].with_company(moves[0].company_id)
        result = {}
        if _wkhtml().is_patched_qt or not self._equisis_parallel_pdf():
            batch = CHUNK if _wkhtml().is_patched_qt else 1
            for chunk in split_every(batch, moves):
                content, report_type = Report._pre_render_qweb_pdf(
                    report.report_name, res_ids=[move.id for move in chunk]
                )
                pdf_by_id = Report._get_splitted_report(
                    report.report_name, content, report_type
                )
                result.update({move: pdf_by_id[move.id] for move in chunk})
            return result
        data = {"report_type": "pdf", "debug": False}
        if (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("account.display_name_in_footer")
        ):
            data["display_name_in_footer"] = True
        render = self.with_company(moves[0].company_id)._equisis_wkhtmltopdf_worker(
            report
        )
        futures = {}
        with ThreadPoolExecutor(max_workers=self._equisis_pdf_workers()) as pool:
            # Prepare the HTML a few documents at a time and hand each one to
            # a worker at once: preparing and rendering overlap.
            for group in split_every(
                HTML_GROUP, [move.id for move in moves], self.browse
            ):
                html = Report.with_context(debug=False)._render_qweb_html(
                    report.report_name, [move.id for move in group], data=data
                )[0]
                bodies, html_ids, header, footer, paperformat_args = (
                    report.with_context(debug=False)._prepare_html(
                        html, report_model=report.model
                    )
                )
                if set(html_ids) == set(group.ids):
                    body_by_id = dict(zip(html_ids, bodies, strict=True))
                elif len(bodies) == len(group):
                    # A report without data-oe-id: its articles come in order.
                    body_by_id = dict(zip(group.ids, bodies, strict=True))
                else:
                    raise UserError(
                        self.env._(
                            "The report %(report)s does not give one page per "
                            "document: it cannot be sent by e-mail.",
                            report=report.name,
                        )
                    )
                for move in group:
                    futures[move] = pool.submit(
                        render, [body_by_id[move.id]], header, footer, paperformat_args
                    )
            return {move: future.result() for move, future in futures.items()}

    @api.model
    def _equisis_parallel_pdf(self):
        """Whether PDFs really render (tests get HTML unless they ask for PDFs)."""
        return not (
            (modules.module.current_test or tools.config["test_enable"])
            and not self.env.context.get("force_report_rendering")
        )

    @api.model
    def _equisis_pdf_workers(self):
        return max(
            1,
            int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param(PDF_WORKERS_PARAM, PDF_WORKERS)
            ),
        )

    @api.model
    def _equisis_wkhtmltopdf_worker(self, report):
        """A function running the host's wkhtmltopdf call in a worker thread.

        Each call uses a cursor of its own: the host's call only reads the
        report's paper format there.
        """
        # The worker sees committed data only: the report and its company's
        # paper format, not a user or a document of this transaction.
        context = dict(self.env.context, allowed_company_ids=self.env.company.ids)
        registry = self.env.registry

        def render(bodies, header, footer, paperformat_args):
            with registry.cursor() as cr:
                # Give the registry at hand: looking it up by name waits on a
                # lock that module loading (and so the test runner) holds.
                cr.transaction = Transaction(registry)
                env = api.Environment(cr, SUPERUSER_ID, context)
                return env["ir.actions.report"]._run_wkhtmltopdf(
                    bodies,
                    report_ref=report.id,
                    header=header,
                    footer=footer,
                    landscape=context.get("landscape"),
                    specific_paperformat_args=paperformat_args,
                    set_viewport_size=context.get("set_viewport_size"),
                )

        return render

    def _equisis_mark_sent(self, mails):
        """Called once the SMTP server accepted the mails of these documents.

        Only the flag changes: the invoice's lines need no synchronisation,
        which would cost a tenth of a second per document.
        """
        self.with_context(skip_invoice_sync=True).is_move_sent = True
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

    @api.model
    def _cron_equisis_send(self):
        """Send the documents queued by the send window.

        The mails are prepared chunk by chunk, each chunk committed, then
        delivered together: one SMTP session per mail server for the run. A
        mail prepared but not delivered (the worker died) stays outgoing in
        the host's mail queue, which sends it later.
        """
        moves = self.sudo().search([("equisis_send_data", "!=", False)], order="id")
        self.env["ir.cron"]._commit_progress(remaining=len(moves))
        to_deliver = self.env["mail.mail"]
        failed_by_author = defaultdict(list)
        for chunk_ids in split_every(CHUNK, moves.ids):
            chunk = self.sudo().browse(chunk_ids)
            by_author = defaultdict(lambda: self.browse())
            for move in chunk:
                by_author[move.equisis_send_data.get("author_user_id")] |= move
            for author_id, author_moves in by_author.items():
                author = self.env["res.users"].browse(author_id).exists()
                if not author:
                    author_moves.equisis_send_data = False
                    continue
                data = {move.id: move.equisis_send_data for move in author_moves}
                author_moves.with_context(
                    skip_invoice_sync=True
                ).equisis_send_data = False
                try:
                    with self.env.cr.savepoint():
                        mails = (
                            author_moves.with_user(author)
                            .with_company(author_moves.company_id[:1])
                            ._equisis_prepare_mails(data)
                        )
                except (UserError, ValueError) as error:
                    # Nothing was sent: say why on each document.
                    for move in author_moves:
                        move._message_log(
                            body=self.env._(
                                "The e-mail could not be prepared: %(error)s",
                                error=error,
                            )
                        )
                    failed_by_author[author.partner_id.id] += author_moves.ids
                    continue
                to_deliver |= mails
            if not self.env["ir.cron"]._commit_progress(len(chunk_ids)):
                break
        to_deliver._equisis_deliver()
        # Tell each author what left and what did not; a mail held back by
        # the personal server's limit is neither yet.
        sent_by_author = defaultdict(list)
        for mail in to_deliver:
            if mail.state == "sent":
                sent_by_author[mail.author_id.id].append(mail.equisis_move_id.id)
            elif mail.state == "exception":
                failed_by_author[mail.author_id.id].append(mail.equisis_move_id.id)
        Send = self.env["account.move.send"]
        Send._send_notifications_to_partners(dict(sent_by_author))
        Send._send_notifications_to_partners(dict(failed_by_author), is_success=False)

    def action_equisis_retry_mail(self):
        """Send again the mails of these documents that failed, and only those:
        not a document sent or queued again since its mail failed."""
        self._equisis_lock()
        failed = self.filtered(
            lambda move: move.equisis_mail_state == "failed" and not move.is_move_sent
        )
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [("equisis_move_id", "in", failed.ids), ("state", "=", "exception")]
            )
        )
        latest = {}
        for mail in mails.sorted("id"):
            latest[mail.equisis_move_id.id] = mail
        to_retry = (
            self.env["mail.mail"].sudo().browse([mail.id for mail in latest.values()])
        )
        if not to_retry:
            raise UserError(self.env._("There is no failed e-mail to send again."))
        to_retry.mark_outgoing()
        to_retry._equisis_deliver_after_commit()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "%(count)s e-mail(s) will be sent again.", count=len(to_retry)
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
