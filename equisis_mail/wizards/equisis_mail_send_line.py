# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models

from ..utils.addresses import split_recipients


class EquisisMailSendLine(models.TransientModel):
    """One mail of the send window: a document and its recipients."""

    _name = "equisis.mail.send.line"
    _description = "Mail to Send"
    _order = "id"

    wizard_id = fields.Many2one(
        comodel_name="equisis.mail.send",
        required=True,
        ondelete="cascade",
        index=True,
    )
    move_id = fields.Many2one(
        comodel_name="account.move",
        ondelete="set null",
        readonly=True,
    )
    move_type = fields.Selection(related="move_id.move_type")
    partner_id = fields.Many2one(comodel_name="res.partner")
    email_from = fields.Char(
        string="From",
        compute="_compute_email_from",
        help="Mails always leave as the user who sends them.",
    )
    email_to = fields.Char(
        string="Recipients",
        help="Several addresses separated by ;",
    )
    letter_id = fields.Many2one(
        comodel_name="equisis.letter",
        domain="[('letter_type', '=', 'accompaniment'), ('target', '=', move_type)]",
    )
    subject = fields.Char(
        compute="_compute_mail_content",
        store=True,
        readonly=False,
    )
    # The body is rendered only when it is looked at or sent: opening the
    # window for hundreds of documents renders subjects only.
    body_html = fields.Html(
        compute="_compute_body_html",
        inverse="_inverse_body_html",
        sanitize="email_outgoing",
    )
    body_custom = fields.Html(
        compute="_compute_mail_content",
        store=True,
        readonly=False,
        sanitize="email_outgoing",
        string="Edited Body",
        help="The body as the user edited it, if edited.",
    )
    render_error = fields.Char(compute="_compute_mail_content", store=True)
    attachment_ids = fields.Many2many(
        comodel_name="ir.attachment",
        string="Annexes",
        help="Files that go with the document's PDF.",
    )
    available_annex_ids = fields.Many2many(
        comodel_name="ir.attachment",
        compute="_compute_available_annex_ids",
        string="Attachments of the Document",
    )
    report_id = fields.Many2one(
        comodel_name="ir.actions.report",
        compute="_compute_report_id",
        string="PDF Report",
    )
    pdf_name = fields.Char(compute="_compute_report_id", string="PDF")
    attachment_count = fields.Integer(
        compute="_compute_attachment_count", string="Attachments"
    )
    sent_when_opened = fields.Boolean(
        readonly=True,
        help="Whether the document had been sent when the window was opened: "
        "sending it again is then a choice, not a collision.",
    )
    document_error = fields.Char(
        readonly=True,
        help="Why the document's own files could not be made (the host's "
        "e-invoice checks), found when sending.",
    )
    sending_note = fields.Char(
        compute="_compute_sending_note",
        help="The customer prefers another way than e-mail to receive documents.",
    )
    problem = fields.Char(compute="_compute_problem")

    def _compute_email_from(self):
        self.email_from = self.env.user.email_formatted

    def _render_by_letter(self, parts):
        """Render the lines' letters, one batch per letter.

        :return: {line: {"subject": ..., "body": ...} or {"error": message}}
        """
        by_letter = defaultdict(self.browse)
        for line in self:
            if line.letter_id and line.move_id:
                by_letter[line.letter_id] |= line
        result = {}
        for letter, lines in by_letter.items():
            try:
                rendered = letter._render_for_moves(lines.move_id, parts)
            except Exception as error:  # noqa: BLE001 - the reason shows on the line
                message = self.env._(
                    "The letter %(code)s could not be rendered: %(error)s",
                    code=letter.code,
                    error=error,
                )
                result.update({line: {"error": message} for line in lines})
                continue
            result.update({line: rendered[line.move_id.id] for line in lines})
        return result

    @api.depends("letter_id")
    def _compute_mail_content(self):
        rendered = self._render_by_letter(parts=("subject",))
        for line in self:
            values = rendered.get(line, {})
            line.subject = values.get(
                "subject", line.subject if not line.letter_id else False
            )
            line.render_error = values.get("error", False)
            line.body_custom = False

    @api.depends("letter_id", "body_custom")
    def _compute_body_html(self):
        to_render = self.filtered(lambda line: not line.body_custom)
        rendered = to_render._render_by_letter(parts=("body",))
        for line in self:
            line.body_html = line.body_custom or rendered.get(line, {}).get(
                "body", False
            )

    def _inverse_body_html(self):
        for line in self:
            line.body_custom = line.body_html

    def _render_bodies_for_sending(self):
        """Render the bodies not edited, once, before sending.

        They are kept as the lines' bodies; a letter that fails to render
        turns its lines red instead.
        """
        rendered = self.filtered(lambda line: not line.body_custom)._render_by_letter(
            parts=("body",)
        )
        for line, values in rendered.items():
            if "error" in values:
                line.render_error = values["error"]
            else:
                line.body_custom = values["body"]

    @api.depends("move_id")
    def _compute_available_annex_ids(self):
        annexes = self.env["equisis.mail.send"]._annexes_by_move(self.move_id)
        for line in self:
            line.available_annex_ids = annexes.get(line.move_id.id, [])

    @api.depends("move_id", "wizard_id.print_form_id")
    def _compute_report_id(self):
        forms = self.env["equisis.letter"]._choose_print_form(self.move_id)
        for line in self:
            wizard_form = line.wizard_id.print_form_id
            form = (
                wizard_form
                if wizard_form.target == line.move_id.move_type
                else forms.get(line.move_id.move_type)
            )
            line.report_id = form._get_report() if form or line.move_id else False
            line.pdf_name = (
                line.move_id._get_invoice_report_filename(report=line.report_id)
                if line.move_id and line.report_id
                else False
            )

    @api.depends("attachment_ids", "report_id")
    def _compute_attachment_count(self):
        for line in self:
            line.attachment_count = len(line.attachment_ids) + (
                1 if line.report_id else 0
            )

    @api.depends(
        "move_id.state",
        "move_id.is_move_sent",
        "email_to",
        "letter_id",
        "subject",
        "render_error",
        "document_error",
        "report_id",
        "attachment_ids",
    )
    def _compute_problem(self):
        max_size = self.env["ir.mail_server"].sudo()._get_max_email_size() * 1024 * 1024
        annex_sizes = {
            attachment.id: attachment.file_size
            for attachment in self.attachment_ids.sudo()
        }
        letters_by_target = {
            target
            for target in self.env["equisis.letter"]
            .search([("letter_type", "=", "accompaniment")])
            .mapped("target")
        }
        waiting = self.env["equisis.mail.service"]._waiting(self.move_id)
        # A document goes once: a second line for it (over RPC) is red.
        first_line = {}
        for line in self.wizard_id.line_ids:
            first_line.setdefault((line.wizard_id, line.move_id), line)
        duplicates = self.filtered(
            lambda line: first_line.get((line.wizard_id, line.move_id), line) != line
        )
        for line in self:
            line.problem = line._find_problem(
                max_size, annex_sizes, letters_by_target, waiting, duplicates
            )

    def _find_problem(self, max_size, annex_sizes, letter_targets, waiting, duplicates):
        """The first reason this line cannot be sent, in the user's language."""
        move = self.move_id
        problem = self._find_document_problem(waiting, duplicates)
        if problem:
            return problem
        valid, invalid = split_recipients(self.email_to)
        if invalid:
            return self.env._(
                "Malformed address: %(address)s", address=", ".join(invalid)
            )
        if not valid:
            return self.env._("No recipient: type an address (several separated by ;).")
        if not self.letter_id:
            if move.move_type not in letter_targets:
                return self.env._(
                    "No accompanying letter exists for this kind of document."
                )
            return self.env._("Choose an accompanying letter.")
        if self.render_error:
            return self.render_error
        if self.document_error:
            return self.document_error
        if not (self.subject or "").strip():
            return self.env._("The subject is empty.")
        if "\n" in self.subject or "\r" in self.subject:
            return self.env._("The subject must fit on one line.")
        if not self.report_id:
            return self.env._("No print form for this kind of document.")
        size = sum(
            annex_sizes.get(attachment.id, 0) for attachment in self.attachment_ids
        )
        size += move.invoice_pdf_report_id.sudo().file_size or 0
        if max_size and size * 4 / 3 > max_size:
            return self.env._(
                "The attachments (%(size).1f MB) exceed the mail server's limit "
                "of %(limit).1f MB.",
                size=size / 1024 / 1024,
                limit=max_size / 1024 / 1024,
            )
        return False

    @api.depends("move_id")
    def _compute_sending_note(self):
        methods = dict(
            self.env["res.partner"].fields_get(
                ["invoice_sending_method"], ["selection"]
            )["invoice_sending_method"]["selection"]
        )
        for line in self:
            partner = line.move_id.commercial_partner_id.with_company(
                line.move_id.company_id
            )
            method = partner.invoice_sending_method
            line.sending_note = (
                self.env._(
                    "%(partner)s prefers to receive documents by %(method)s.",
                    partner=partner.display_name,
                    method=methods.get(method, method),
                )
                if line.move_id and method and method != "email"
                else False
            )

    def _find_document_problem(self, waiting, duplicates):
        """Why the document itself cannot go now, if it cannot."""
        move = self.move_id
        if not move:
            return self.env._("The document no longer exists.")
        if move.state != "posted":
            return self.env._(
                "The document %(name)s is not posted.", name=move.display_name
            )
        if move in waiting:
            return self.env._(
                "%(name)s is already waiting to be sent.", name=move.display_name
            )
        if move.is_move_sent and not self.sent_when_opened:
            return self.env._(
                "%(name)s was sent from elsewhere after this window was opened.",
                name=move.display_name,
            )
        if self in duplicates:
            return self.env._(
                "%(name)s has another line in this window.", name=move.display_name
            )
        if not self.env.user.email_normalized:
            return self.env._(
                "You have no e-mail address: set one in your preferences."
            )
        return False

    def _sending_values(self):
        self.ensure_one()
        # Files uploaded in this window outlive it: they go with the mail,
        # whose message they join, and stay readable by their uploader only.
        self.attachment_ids.filtered(lambda a: a.res_model == self._name).write(
            {"res_model": False, "res_id": 0}
        )
        recipients, _invalid = split_recipients(self.email_to)
        return {
            "email_to": recipients,
            "subject": self.subject,
            "body": self.body_html,
            "attachment_ids": self.attachment_ids.ids,
            "report_id": self.report_id.id,
            "bcc": self.wizard_id.bcc_confirmation,
        }

    def action_open_line(self):
        """Open the detail of one mail."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [
                (
                    self.env.ref("equisis_mail.equisis_mail_send_line_view_form").id,
                    "form",
                )
            ],
            "target": "new",
            "name": self.move_id.display_name,
        }
