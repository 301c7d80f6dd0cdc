# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import clean_context, config

INVOICE_MODEL = "account.move"
# How Python and the host say a server refused the connection.
CONNECTION_REFUSED = re.compile(r"Connection refused|Errno 111\b", re.IGNORECASE)


class EquisisMailSend(models.TransientModel):
    """The send window: one line per document, red where something is missing."""

    _name = "equisis.mail.send"
    _description = "Send Documents by E-mail"

    move_ids = fields.Many2many(
        comodel_name="account.move",
    )
    res_model = fields.Char(
        string="Document Model",
        readonly=True,
        help="The model of the documents to send (invoices when empty).",
    )
    res_ids = fields.Json(
        string="Documents",
        readonly=True,
        help="The ids of the documents to send, for documents other than invoices.",
    )
    print_form_id = fields.Many2one(
        comodel_name="equisis.letter",
        domain="[('letter_type', '=', 'print_form'), ('target', 'in', target_list)]",
        help="Which PDF goes with each mail. Leave empty to give each document "
        "its own print form; documents of another kind keep theirs.",
    )
    letter_id = fields.Many2one(
        comodel_name="equisis.letter",
        string="Accompanying Letter",
        domain="[('letter_type', '=', 'accompaniment'), ('target', 'in', target_list)]",
        help="Leave empty to give each document the letter in its partner's "
        "language. Pick one to use it for every document of its kind.",
    )
    bcc_confirmation = fields.Boolean(
        string="BCC Confirmation",
        default=lambda self: self.env.user.bcc_confirmation,
        help="Receive a blind copy of each mail (SMTP envelope only).",
    )
    annex_ids = fields.Many2many(
        comodel_name="ir.attachment",
        relation="equisis_mail_send_annex_rel",
        string="Annexes for Every Mail",
        help="Files that go with every mail of this window, each mail with "
        "its own copy. A file for one mail only is added in its line.",
    )
    line_ids = fields.One2many(
        comodel_name="equisis.mail.send.line",
        inverse_name="wizard_id",
        string="Mails",
    )
    target_list = fields.Json(compute="_compute_target_list")
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Sender",
        compute="_compute_user_id",
        help="Mails always leave as the user who sends them.",
    )
    sender_email = fields.Char(related="user_id.email_formatted", string="From")
    sender_server = fields.Char(compute="_compute_sender_server", string="Sent Through")
    has_sending_note = fields.Boolean(compute="_compute_has_sending_note")
    resend_confirmed = fields.Boolean(
        string="Send them again",
        help="Documents sent already go only when this is ticked: sending "
        "twice is a choice, never an accident.",
    )
    already_sent_count = fields.Integer(compute="_compute_already_sent")
    already_sent_summary = fields.Html(
        compute="_compute_already_sent",
        sanitize=False,
        help="Which documents were sent already, when and to whom.",
    )
    problem_count = fields.Integer(compute="_compute_counts")
    ready_count = fields.Integer(compute="_compute_counts")
    # What became of the mails sent from this window: read when the window
    # shows again, after the mails were handed to the mail server.
    result_mail_ids = fields.Json(
        string="Mails Sent",
        readonly=True,
        help="The ids of the mails sent from this window (users may not read "
        "mails: the outcome is read for them, of their own mails only).",
    )
    result_queued_count = fields.Integer(readonly=True)
    result_held_count = fields.Integer(
        readonly=True,
        help="Lines of documents sent already that Send left out, as the "
        "resending was not confirmed.",
    )
    result_state = fields.Selection(
        selection=[
            ("sent", "Sent"),
            ("waiting", "On Its Way"),
            ("failed", "Failed"),
        ],
        compute="_compute_result",
    )
    result_message = fields.Char(compute="_compute_result")
    result_failures = fields.Html(compute="_compute_result", sanitize=False)

    def _compute_user_id(self):
        self.user_id = self.env.user

    @api.depends_context("uid")
    def _compute_sender_server(self):
        """The server the mails leave through, host and port, the user's
        own or else the company's: the user knows where a refusal comes
        from."""
        self.sender_server = self._sending_server_label()

    @api.model
    def _sending_server(self):
        """The user's own server, else the company's that Odoo would choose.

        :return: (host, port, whose) where whose is "own", "company" or
                 "config" (Odoo's configuration file), or (False, False, False)
        """
        user = self.env.user
        own = user.sudo()._equisis_personal_server().get(user.id)
        if own:
            return own.smtp_host, own.smtp_port, "own"
        server, _from = (
            self.env["ir.mail_server"]
            .sudo()
            ._find_mail_server(user.email_formatted or "")
        )
        if server:
            return server.smtp_host, server.smtp_port, "company"
        if config.get("smtp_server"):
            return config["smtp_server"], config.get("smtp_port"), "config"
        return False, False, False

    @api.model
    def _sending_server_label(self):
        host, port, whose = self._sending_server()
        if whose == "own":
            return self.env._(
                "%(host)s:%(port)s (your own server)", host=host, port=port
            )
        if whose:
            return self.env._(
                "%(host)s:%(port)s (the company's server)", host=host, port=port
            )
        return False

    @api.depends("move_ids", "res_model", "res_ids")
    def _compute_target_list(self):
        for wizard in self:
            wizard.target_list = sorted(
                {document._equisis_letter_target() for document in wizard._documents()}
            )

    @api.depends("line_ids.sending_note")
    def _compute_has_sending_note(self):
        for wizard in self:
            wizard.has_sending_note = any(wizard.line_ids.mapped("sending_note"))

    @api.depends("line_ids.problem", "line_ids.already_sent", "resend_confirmed")
    def _compute_counts(self):
        for wizard in self:
            wizard.problem_count = len(wizard.line_ids.filtered("problem"))
            wizard.ready_count = len(
                wizard.line_ids.filtered(
                    lambda line, w=wizard: (
                        not line.problem
                        and (w.resend_confirmed or not line.already_sent)
                    )
                )
            )

    @api.depends("line_ids.sent_note")
    def _compute_already_sent(self):
        for wizard in self:
            lines = wizard.line_ids.filtered("already_sent")
            wizard.already_sent_count = len(lines)
            wizard.already_sent_summary = (
                Markup("<ul class='mb-1'>%s</ul>")
                % Markup().join(
                    Markup("<li><strong>%s</strong>: %s</li>")
                    % (line.document_name, line.sent_note)
                    for line in lines[:10]
                )
                + (
                    Markup("<p class='mb-1'>%s</p>")
                    % self.env._("and %(count)s more.", count=len(lines) - 10)
                    if len(lines) > 10
                    else Markup()
                )
                if lines
                else False
            )

    @api.depends("result_mail_ids", "result_queued_count", "result_held_count")
    def _compute_result(self):
        """The outcome as the mail server gave it, never a hope: mails
        accepted, refused with the server's reason, and still on their way."""
        for wizard in self:
            mails = (
                self.env["mail.mail"]
                .sudo()
                .browse(wizard.result_mail_ids or [])
                .exists()
                .filtered(lambda mail: mail.create_uid.id == self.env.uid)
            )
            if not mails and not wizard.result_queued_count:
                wizard.result_state = False
                wizard.result_message = False
                wizard.result_failures = False
                continue
            sent = mails.filtered(lambda mail: mail.state == "sent")
            failed = mails.filtered(lambda mail: mail.state in ("exception", "cancel"))
            waiting = len(mails - sent - failed) + wizard.result_queued_count
            partial = sent.filtered("equisis_refused")
            wizard.result_message = " ".join(
                wizard._result_sentences(len(sent), len(failed), waiting, len(partial))
            )
            wizard.result_state = (
                "failed" if failed or partial else "waiting" if waiting else "sent"
            )
            wizard.result_failures = (
                Markup("<ul>%s</ul>")
                % Markup().join(
                    Markup("<li><strong>%s</strong>: %s</li>")
                    % (
                        mail._equisis_document().display_name or mail.subject,
                        escape(wizard._plain_failure(mail)),
                    )
                    for mail in failed | partial
                )
                if failed or partial
                else False
            )

    def _result_sentences(self, sent, failed, waiting, partial):
        """The outcome in plain sentences, singular or plural as it falls."""
        if sent == 1:
            parts = [self.env._("1 mail sent.")]
        elif sent:
            parts = [self.env._("%(count)s mails sent.", count=sent)]
        else:
            parts = [self.env._("No mail was sent.")]
        if failed == 1:
            parts.append(self.env._("1 mail failed."))
        elif failed:
            parts.append(self.env._("%(count)s mails failed.", count=failed))
        if waiting:
            parts.append(
                self.env._(
                    "1 mail is on its way: you will find the outcome on its "
                    "document, and a notification when a background run ends."
                )
                if waiting == 1
                else self.env._(
                    "%(count)s mails are on their way: you will find the outcome "
                    "on each document, and a notification when a background run "
                    "ends.",
                    count=waiting,
                )
            )
        if partial:
            parts.append(
                self.env._("1 mail had some recipients refused.")
                if partial == 1
                else self.env._(
                    "%(count)s mails had some recipients refused.", count=partial
                )
            )
        held = self.result_held_count
        if held:
            parts.append(
                self.env._(
                    "1 document sent already was left out: tick “Send them "
                    "again” to send it."
                )
                if held == 1
                else self.env._(
                    "%(count)s documents sent already were left out: tick “Send "
                    "them again” to send them.",
                    count=held,
                )
            )
        return parts

    def _plain_failure(self, mail):
        """A mail's failure as a user can act on it: a refused connection
        names the server, its port and the screen where to change them."""
        reason = (
            mail.failure_reason
            or mail.equisis_refused
            or self.env._("The mail server refused the mail.")
        )
        if mail.state != "exception" or not CONNECTION_REFUSED.search(reason):
            return reason
        server = mail.mail_server_id
        if server:
            host, port = server.smtp_host, server.smtp_port
            whose = "own" if server.owner_user_id else "company"
        else:
            host, port, whose = self._sending_server()
        if whose == "own":
            return self.env._(
                "The mail server %(host)s:%(port)s refused the connection. Check "
                "its name and port in Settings > Users > %(user)s > E-mail "
                "sending.",
                host=host,
                port=port,
                user=mail.create_uid.name or self.env.user.name,
            )
        return self.env._(
            "The mail server %(host)s:%(port)s refused the connection. Check "
            "the company's outgoing mail server in Settings > Technical > "
            "Outgoing Mail Servers, or give yourself a server of your own in "
            "Settings > Users > %(user)s > E-mail sending.",
            host=host or "localhost",
            port=port or 25,
            user=self.env.user.name,
        )

    @api.model_create_multi
    def create(self, vals_list):
        document_models = self.env["equisis.mail.document"]._equisis_document_models()
        for vals in vals_list:
            res_model = vals.get("res_model") or INVOICE_MODEL
            if res_model not in document_models:
                raise UserError(
                    self.env._(
                        "Documents of the kind %(model)s cannot be sent here.",
                        model=res_model,
                    )
                )
            vals["res_model"] = res_model
            if res_model == INVOICE_MODEL and vals.get("res_ids"):
                vals["move_ids"] = [Command.set(vals.pop("res_ids"))]
        wizards = super().create(vals_list)
        for wizard in wizards.filtered(lambda w: not w.line_ids and w._documents()):
            wizard._build_lines()
        return wizards

    def _documents(self):
        """The documents this window was opened on."""
        self.ensure_one()
        if (self.res_model or INVOICE_MODEL) == INVOICE_MODEL:
            return self.move_ids
        return self.env[self.res_model].browse(self.res_ids or []).exists()

    def _build_lines(self):
        """One line per document, its values read for the whole batch at once."""
        self.ensure_one()
        documents = self._documents()
        Letter = self.env["equisis.letter"]
        accompaniments = Letter._choose_accompaniments(documents)
        if not self.print_form_id:
            # One print form for the window only when every document has the
            # same; otherwise each keeps its own (an RFQ and an order differ).
            forms = set(Letter._choose_print_forms(documents).values())
            if len(forms) == 1:
                self.print_form_id = forms.pop()
        recipients = documents._equisis_recipients()
        annexes = (
            self._annexes_by_document(documents)
            if self.env.company.send_annexes_by_mail
            else {}
        )
        is_invoice = documents._name == INVOICE_MODEL
        last_sent = self.env["equisis.mail.service"]._last_sent(documents)
        self.line_ids = [
            Command.create(
                {
                    "res_model": documents._name,
                    "res_id": document.id,
                    "move_id": document.id if is_invoice else False,
                    "sent_when_opened": document._equisis_is_sent(),
                    "sent_date_when_opened": (
                        last_sent.get((documents._name, document.id)) or (False,)
                    )[0],
                    "partner_id": document._equisis_partner().id,
                    "email_to": "; ".join(recipients.get(document.id, [])),
                    "default_letter_id": accompaniments[document.id].id,
                    "letter_id": (
                        self.letter_id
                        if self.letter_id.target == document._equisis_letter_target()
                        else accompaniments[document.id]
                    ).id,
                    "attachment_ids": [Command.set(annexes.get(document.id, []))],
                }
            )
            for document in documents
        ]
        self.line_ids._rank()

    @api.model
    def _annexes_by_document(self, documents):
        """The files attached to each document, its own legal PDF aside, and
        those posted with a note in its chatter (*Log note*): what the team
        wrote for itself is not offered to the customer (a user may still
        upload such a file). The logs of its sent mails, and replies to
        them, are no such notes (Odoo marks them ``is_internal``): their files
        stay annexes."""
        attachments = self.env["ir.attachment"].search(
            [
                ("res_model", "=", documents._name),
                ("res_id", "in", documents.ids),
                ("res_field", "=", False),
                ("mimetype", "!=", False),
            ]
        )
        internal = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", documents._name),
                    ("res_id", "in", documents.ids),
                    ("attachment_ids", "in", attachments.ids),
                    ("is_internal", "=", False),
                    ("subtype_id.internal", "=", True),
                ]
            )
        )
        attachments -= internal.attachment_ids
        result = {}
        for attachment in attachments:
            result.setdefault(attachment.res_id, []).append(attachment.id)
        return result

    @api.onchange("letter_id")
    def _onchange_letter_id(self):
        """A window-wide letter replaces the lines' letters of its kind;
        clearing it gives each document its partner's letter back."""
        for line in self.line_ids:
            if not self.letter_id:
                line.letter_id = line.default_letter_id
            elif self.letter_id.target == line.target:
                line.letter_id = self.letter_id

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "name": self.env._("Send by E-mail"),
            # As wide as the host's large dialogs: document numbers and
            # partners show whole.
            "context": {**self.env.context, "dialog_size": "extra-large"},
        }

    def action_send(self):
        """Send every line without problem; keep the others listed.

        The window then shows again with what became of each mail: in the
        send window's request the mails are delivered once its transaction is
        committed, before the answer reaches the browser, so the outcome is
        read then, as the mail server gave it.
        """
        self.ensure_one()
        # No ``default_*`` key of the caller fills in what sending makes.
        return self.with_context(clean_context(self.env.context))._send_lines()

    def _send_lines(self):
        lines = self.line_ids
        if not lines:
            raise UserError(self.env._("There is nothing left to send."))
        Service = self.env["equisis.mail.service"]
        document_by_line = lines._documents_by_line()
        documents = [document for document in document_by_line.values() if document]
        Service._check_document_models(documents)
        # Under the claim, a document another user sent meanwhile is seen as
        # sent, and its line turns red instead of mailing it a second time.
        Service._claim(documents)
        # The host's e-invoice checks run again on Send: the user may have
        # fixed the customer since.
        lines.document_error = False
        lines._render_bodies_for_sending()
        lines._compute_problem()
        ready = lines.filtered(lambda line: not line.problem)
        held = (
            ready.filtered("already_sent") if not self.resend_confirmed else ready[:0]
        )
        if ready and ready == held:
            raise UserError(
                self.env._(
                    "Every mail that could go is for a document sent already "
                    "(%(count)s). To send them again, tick “Send them again” in "
                    "the window, then Send.",
                    count=len(held),
                )
            )
        ready -= held
        if not ready:
            raise UserError(
                self.env._(
                    "No mail can be sent: every line lacks something.\n%(problems)s",
                    problems="\n".join(
                        f"- {line.document_name or ''}: {line.problem}"
                        for line in lines[:10]
                    ),
                )
            )
        ready._save_typed_addresses()
        result = Service._send(
            {document_by_line[line]: line._sending_values() for line in ready}
        )
        for line in ready:
            line.document_error = result["errors"].get(document_by_line[line], False)
        done = ready.filtered(lambda line: not line.document_error)
        self.write(
            {
                "result_mail_ids": result["mails"].ids,
                "result_queued_count": result["queued"],
                "result_held_count": len(held),
                "resend_confirmed": False,
            }
        )
        done.unlink()
        if not self.line_ids:
            # Every mail has its own copy of the window's annexes.
            self.annex_ids.filtered(lambda a: a.res_model == self._name).unlink()
        (lines - done).exists()._rank()
        return self._reopen()
