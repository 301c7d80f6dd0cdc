# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_datetime

from ..utils.addresses import split_recipients

# The cursor's cache key of the lines' targets: {line id: (model, id)}.
TARGETS_KEY = "equisis_mail_send_line_targets"


class EquisisMailSendLine(models.TransientModel):
    """One mail of the send window: a document and its recipients."""

    _name = "equisis.mail.send.line"
    _description = "Mail to Send"
    # Red lines first, then documents sent already, then the others: in a
    # long batch what needs the user is at the top.
    _order = "display_rank, id"

    wizard_id = fields.Many2one(
        comodel_name="equisis.mail.send",
        required=True,
        ondelete="cascade",
        index=True,
    )
    res_model = fields.Char(string="Document Model", readonly=True, required=True)
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", readonly=True
    )
    move_id = fields.Many2one(
        comodel_name="account.move",
        ondelete="set null",
        readonly=True,
        help="The document, when it is an invoice.",
    )
    document_name = fields.Char(string="Document", compute="_compute_document_name")
    target = fields.Char(
        compute="_compute_target",
        help="The kind of document, as letters name it.",
    )
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
    partner_has_email = fields.Boolean(compute="_compute_partner_has_email")
    save_address = fields.Boolean(
        string="Save on Contact",
        help="Write the recipients typed here on the contact, which has no "
        "address, when the mail is sent.",
    )
    letter_id = fields.Many2one(
        comodel_name="equisis.letter",
        domain="[('letter_type', '=', 'accompaniment'), ('target', '=', target)]",
    )
    default_letter_id = fields.Many2one(
        comodel_name="equisis.letter",
        readonly=True,
        help="The letter in the partner's language, chosen when the window opened.",
    )
    # The letters render with the user's rights: the documents and the
    # letter (which may be one being edited) are the user's to read.
    subject = fields.Char(
        compute="_compute_mail_content",
        compute_sudo=False,
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
        compute_sudo=False,
        store=True,
        readonly=False,
        sanitize="email_outgoing",
        string="Edited Body",
        help="The body as the user edited it, if edited.",
    )
    render_error = fields.Char(
        compute="_compute_mail_content", compute_sudo=False, store=True
    )
    attachment_ids = fields.Many2many(
        comodel_name="ir.attachment",
        string="Annexes",
        help="Files that go with the document's PDF.",
    )
    upload_ids = fields.Many2many(
        comodel_name="ir.attachment",
        compute="_compute_upload_ids",
        inverse="_inverse_upload_ids",
        string="Your Files",
        help="Files added in this window; the document's own files are ticked "
        "in the list of its attachments.",
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
    pdf_name = fields.Char(compute="_compute_pdf_name", string="PDF")
    attachment_count = fields.Integer(
        compute="_compute_attachment_count", string="Attachments"
    )
    sent_when_opened = fields.Boolean(
        readonly=True,
        help="Whether the document had been sent when the window was opened: "
        "sending it again is then a choice, not a collision.",
    )
    sent_date_when_opened = fields.Datetime(
        readonly=True,
        help="When the document's latest mail had left, as the window was "
        "opened: a later one means someone mailed it meanwhile.",
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
    sent_note = fields.Char(
        string="Already Sent",
        compute="_compute_sent_note",
        help="When the document was sent already, and to whom. Such lines are "
        "sent again only when “Send them again” is ticked.",
    )
    already_sent = fields.Boolean(
        string="Sent Before",
        compute="_compute_sent_note",
        help="The document was sent already: its line goes only when the "
        "window's “Send them again” is ticked.",
    )
    display_rank = fields.Integer(
        readonly=True,
        help="Where the line shows: red lines first, then documents sent "
        "already, then the others.",
    )
    problem = fields.Char(compute="_compute_problem")

    @api.model_create_multi
    def create(self, vals_list):
        """A line names its document by model and id; an invoice line may
        give its invoice only (``move_id``), as the contract's callers do."""
        for vals in vals_list:
            if vals.get("move_id") and not vals.get("res_model"):
                vals["res_model"] = "account.move"
                vals["res_id"] = vals["move_id"]
            elif vals.get("res_model") == "account.move" and not vals.get("move_id"):
                vals["move_id"] = vals.get("res_id")
        return super().create(vals_list)

    def write(self, vals):
        if {"res_model", "res_id", "move_id"} & set(vals):
            targets = self.env.cr.cache.get(TARGETS_KEY, {})
            for line_id in self.ids:
                targets.pop(line_id, None)
        return super().write(vals)

    @api.constrains("res_model", "res_id", "move_id")
    def _check_document(self):
        document_models = self.env["equisis.mail.document"]._equisis_document_models()
        for line in self:
            if line.res_model not in document_models or (
                line.res_model == "account.move" and line.move_id.id != line.res_id
            ):
                raise ValidationError(
                    self.env._(
                        "Documents of the kind %(model)s cannot be sent here.",
                        model=line.res_model,
                    )
                )
        # A line tells of its document (when it was mailed): only of a
        # document its user may read. Constraints run as superuser.
        for documents in self._documents_per_model().values():
            documents.sudo(False).check_access("read")

    def _document(self):
        """The document of this line (empty once deleted)."""
        self.ensure_one()
        return self.env[self.res_model].browse(self.res_id).exists()

    def _sent_meanwhile(self, last_sent):
        """Whether the document's latest mail left after this window opened.

        :param last_sent: (date, recipients) of that mail, or None
        """
        self.ensure_one()
        date = last_sent and last_sent[0]
        return bool(date) and (
            not self.sent_date_when_opened or date > self.sent_date_when_opened
        )

    def _documents_by_line(self):
        """Each line's document, looked up once per model.

        A window's computes ask for them a dozen times: the lines' targets
        are read once per transaction (``write`` forgets them), whether the
        documents still exist each time.
        """
        targets = self.env.cr.cache.setdefault(TARGETS_KEY, {})
        unknown = [line for line in self if line.id not in targets]
        for line in unknown:
            targets[line.id] = (line.res_model, line.res_id)
        pairs = [(line, targets[line.id]) for line in self]
        existing = {
            (model, document.id): document
            for model, documents in self.env["equisis.mail.service"]
            ._by_model(pair for _line, pair in pairs)
            .items()
            for document in documents.exists()
        }
        return {line: existing.get(pair) for line, pair in pairs}

    def _documents_per_model(self):
        """The lines' existing documents, one recordset per model.

        :return: {model: recordset}
        """
        return self.env["equisis.mail.service"]._by_model(
            document for document in self._documents_by_line().values() if document
        )

    @api.depends("res_model", "res_id")
    def _compute_document_name(self):
        for line, document in self._documents_by_line().items():
            line.document_name = document.display_name if document else False

    @api.depends("res_model", "res_id")
    def _compute_target(self):
        for line, document in self._documents_by_line().items():
            line.target = document._equisis_letter_target() if document else False

    @api.depends("partner_id.email")
    def _compute_partner_has_email(self):
        """Also true when the user may not change the contact: there is
        then no address to offer to save."""
        for line in self:
            line.partner_has_email = bool(line.partner_id.email) or (
                line.partner_id and not line.partner_id.has_access("write")
            )

    def _save_typed_addresses(self):
        """Keep the addresses typed for contacts without one, where asked."""
        for line in self.filtered(
            lambda line: (
                line.save_address
                and line.partner_id
                and not line.partner_id.email
                and line.partner_id.has_access("write")
            )
        ):
            valid, _invalid = split_recipients(line.email_to)
            if valid:
                line.partner_id.email = ", ".join(valid)

    def _compute_email_from(self):
        self.email_from = self.env.user.email_formatted

    def _render_by_letter(self, parts):
        """Render the lines' letters, one batch per letter.

        A letter that fails for its batch is rendered again document by
        document: only the lines whose document it fails for turn red, each
        with its own reason.

        :return: {line: {"subject": ..., "body": ...} or {"error": message}}
        """
        by_letter = defaultdict(self.browse)
        documents = self._documents_by_line()
        result = {}
        for line in self:
            if not line.letter_id or not documents[line]:
                continue
            if line.letter_id.target != line.target:
                result[line] = {
                    "error": self.env._(
                        "The letter %(letter)s is not for this kind of document.",
                        letter=line.letter_id.display_name,
                    )
                }
                continue
            by_letter[line.letter_id] |= line
        for letter, lines in by_letter.items():
            letter_documents = self.env[letter.render_model].browse(
                [documents[line].id for line in lines]
            )
            try:
                rendered = letter._render_for_documents(letter_documents, parts)
            except Exception:  # noqa: BLE001 - each line then finds its own
                for line in lines:
                    result[line] = line._render_one(letter, documents[line], parts)
                continue
            result.update({line: rendered[documents[line].id] for line in lines})
        return result

    def _render_one(self, letter, document, parts):
        """Render one document's letter; a failure is this line's reason."""
        try:
            return letter._render_for_documents(document, parts)[document.id]
        except Exception as error:  # noqa: BLE001 - the reason shows on the line
            return {"error": letter._render_failure(document, error)}

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

        They are kept as the lines' bodies. Each line's rendering problem is
        found anew from its current letter: a letter that fails turns its
        lines red, and one changed since no longer does.
        """
        self.render_error = False
        bodies = self.filtered(lambda line: not line.body_custom)._render_by_letter(
            parts=("body",)
        )
        subjects = self.filtered(
            lambda line: line.letter_id and not (line.subject or "").strip()
        )._render_by_letter(parts=("subject",))
        for rendered in (bodies, subjects):
            for line, values in rendered.items():
                if "error" in values:
                    line.render_error = values["error"]
                elif "body" in values:
                    line.body_custom = values["body"]

    @api.depends("res_model", "res_id")
    def _compute_available_annex_ids(self):
        annexes = {
            model: self.env["equisis.mail.send"]._annexes_by_document(documents)
            for model, documents in self._documents_per_model().items()
        }
        for line in self:
            line.available_annex_ids = annexes.get(line.res_model, {}).get(
                line.res_id, []
            )

    @api.depends("attachment_ids", "available_annex_ids")
    def _compute_upload_ids(self):
        """The annexes that are not the document's own: each file shows once
        in the line's detail."""
        for line in self:
            line.upload_ids = line.attachment_ids - line.available_annex_ids

    def _inverse_upload_ids(self):
        for line in self:
            line.attachment_ids = (
                line.attachment_ids & line.available_annex_ids
            ) | line.upload_ids

    @api.depends("res_model", "res_id", "wizard_id.print_form_id")
    def _compute_report_id(self):
        documents = self._documents_by_line()
        forms = {
            (model, res_id): letter
            for model, model_documents in self._documents_per_model().items()
            for res_id, letter in self.env["equisis.letter"]
            ._choose_print_forms(model_documents)
            .items()
        }
        for line in self:
            document = documents[line]
            if not document:
                line.report_id = False
                continue
            wizard_form = line.wizard_id.print_form_id
            form = (
                wizard_form
                if wizard_form.target == line.target
                else forms.get((line.res_model, line.res_id))
            )
            line.report_id = form.report_id or document._equisis_default_report()

    @api.depends("report_id")
    def _compute_pdf_name(self):
        """Shown in a line's detail only: not made for every line when the
        window opens."""
        documents = self._documents_by_line()
        for line in self:
            document = documents[line]
            line.pdf_name = (
                document._equisis_report_filename(line.report_id)
                if line.report_id and document
                else False
            )

    @api.depends(
        "res_model",
        "res_id",
        "attachment_ids",
        "upload_ids",
        "report_id",
        "wizard_id.annex_ids",
    )
    def _compute_attachment_count(self):
        """Every file the mail will carry: the annexes as ticked and uploaded
        right now (before the detail is saved), the PDF, and the files the
        host adds to an invoice (its e-invoice XML)."""
        document_files = self._document_file_counts()
        for line in self:
            annexes = (line.attachment_ids & line.available_annex_ids) | (
                line.upload_ids
            )
            line.attachment_count = len(annexes | line.wizard_id.annex_ids) + (
                document_files.get((line.res_model, line.res_id), 1)
                if line.report_id
                else 0
            )

    def _document_file_counts(self):
        """How many files each invoice's own documents make: the host's list
        of what its Print & Send would attach (PDF, e-invoice XML), made or
        still to make. Other documents carry their PDF only.

        :return: {(model, id): count}
        """
        moves = self._documents_per_model().get("account.move")
        if not moves:
            return {}
        # The print form each line renders: else the host looks its default
        # up (``env.ref``, a query) for every invoice.
        reports = {
            line.res_id: line.report_id
            for line in self
            if line.res_model == "account.move"
        }
        Send = self.env["account.move.send"]
        counts = {}
        for move in moves:
            if Send._get_move_constraints(move):
                continue
            files = Send._get_placeholder_mail_attachments_data(
                move,
                invoice_edi_format=Send._get_default_invoice_edi_format(
                    move, sending_methods={"email"}
                ),
                extra_edis=Send._get_default_extra_edis(move),
                pdf_report=reports.get(move.id) or None,
            ) + Send._get_invoice_extra_attachments_data(move)
            counts[("account.move", move.id)] = max(len(files), 1)
        return counts

    @api.depends(
        "res_model",
        "res_id",
        "email_to",
        "letter_id",
        "subject",
        "render_error",
        "document_error",
        "report_id",
        "attachment_ids",
        "wizard_id.annex_ids",
    )
    def _compute_problem(self):
        max_size = self.env["ir.mail_server"].sudo()._get_max_email_size() * 1024 * 1024
        annex_sizes = {
            attachment.id: attachment.file_size
            for attachment in (self.attachment_ids | self.wizard_id.annex_ids).sudo()
        }
        letters_by_target = {
            target
            for target in self.env["equisis.letter"]
            .search([("letter_type", "=", "accompaniment")])
            .mapped("target")
        }
        documents = self._documents_by_line()
        Service = self.env["equisis.mail.service"]
        last_sent = Service._last_sent((line.res_model, line.res_id) for line in self)
        waiting = {
            (model, document.id)
            for model, model_documents in self._documents_per_model().items()
            for document in Service._waiting(model_documents)
        }
        # A document goes once: a second line for it (over RPC) is red.
        first_line = {}
        for line in self.wizard_id.line_ids:
            first_line.setdefault((line.wizard_id, line.res_model, line.res_id), line)
        duplicates = self.filtered(
            lambda line: (
                first_line.get((line.wizard_id, line.res_model, line.res_id), line)
                != line
            )
        )
        for line in self:
            line.problem = line._find_problem(
                documents[line],
                max_size,
                annex_sizes,
                letters_by_target,
                (line.res_model, line.res_id) in waiting,
                line in duplicates,
                line._sent_meanwhile(last_sent.get((line.res_model, line.res_id))),
            )

    def _find_problem(
        self,
        document,
        max_size,
        annex_sizes,
        letter_targets,
        waiting,
        duplicate,
        mailed_since,
    ):
        """The first reason this line cannot be sent, in the user's language."""
        problem = self._find_document_problem(
            document, waiting, duplicate, mailed_since
        )
        if problem:
            return problem
        valid, invalid = split_recipients(self.email_to)
        if invalid:
            return self.env._(
                "Malformed address: %(address)s", address=", ".join(invalid)
            )
        problem = document._equisis_recipient_problem(valid)
        if problem:
            return problem
        if not valid:
            return self.env._("No recipient: type an address (several separated by ;).")
        if not self.letter_id:
            if self.target not in letter_targets:
                return self.env._(
                    "No accompanying letter exists for this kind of document."
                )
            return self.env._("Choose an accompanying letter.")
        if self.letter_id.target != self.target:
            return self.env._(
                "The letter %(code)s is for another kind of document.",
                code=self.letter_id.code,
            )
        if self.render_error:
            return self.render_error
        if self.document_error:
            return self.document_error
        if not (self.subject or "").strip():
            return self.env._("The subject is empty.")
        if "\n" in self.subject or "\r" in self.subject:
            return self.env._("The subject must fit on one line.")
        if not self.report_id and document._equisis_default_report():
            return self.env._("No print form for this kind of document.")
        size = sum(
            annex_sizes.get(attachment.id, 0)
            for attachment in self.attachment_ids | self.wizard_id.annex_ids
        )
        size += document._equisis_known_pdf_size()
        if max_size and size * 4 / 3 > max_size:
            return self.env._(
                "The attachments (%(size).1f MB) exceed the mail server's limit "
                "of %(limit).1f MB.",
                size=size / 1024 / 1024,
                limit=max_size / 1024 / 1024,
            )
        return False

    @api.depends("res_model", "res_id")
    @api.depends_context("uid")
    def _compute_sent_note(self):
        """Said of documents the user may read only: the mails are read as
        superuser, and would tell when a colleague's hidden document left."""
        documents = self._documents_by_line()
        readable = {
            (model, res_id)
            for model, model_documents in self._documents_per_model().items()
            for res_id in model_documents._filtered_access("read").ids
        }
        last_sent = self.env["equisis.mail.service"]._last_sent(readable)
        for line in self:
            key = (line.res_model, line.res_id)
            document = documents[line] if key in readable else None
            date, recipients = last_sent.get(key) or (False, False)
            if document and date and recipients:
                line.sent_note = self.env._(
                    "Sent on %(date)s to %(recipients)s",
                    date=format_datetime(self.env, date, dt_format="short"),
                    recipients=recipients,
                )
            elif document and date:
                line.sent_note = self.env._(
                    "Sent on %(date)s",
                    date=format_datetime(self.env, date, dt_format="short"),
                )
            elif document and document._equisis_is_sent():
                line.sent_note = self.env._("Sent already")
            else:
                line.sent_note = False
            # A contact gets many mails: one before is no reason to hold it.
            line.already_sent = bool(line.sent_note) and (
                self.env[line.res_model]._equisis_sent_once()
            )

    def _rank(self):
        """Put red lines first, then documents sent already."""
        ranks = defaultdict(list)
        for line in self:
            ranks[0 if line.problem else 1 if line.already_sent else 2].append(line.id)
        for rank, line_ids in ranks.items():
            self.browse(line_ids).display_rank = rank

    @api.depends("res_model", "res_id")
    def _compute_sending_note(self):
        notes = {
            model: documents._equisis_sending_notes()
            for model, documents in self._documents_per_model().items()
        }
        for line in self:
            line.sending_note = notes.get(line.res_model, {}).get(line.res_id, False)

    def _find_document_problem(self, document, waiting, duplicate, mailed_since):
        """Why the document itself cannot go now, if it cannot."""
        if not document:
            return self.env._("The document no longer exists.")
        problem = document._equisis_document_problem()
        if problem:
            return problem
        if waiting:
            return self.env._(
                "%(name)s is already waiting to be sent.", name=document.display_name
            )
        if mailed_since or (document._equisis_is_sent() and not self.sent_when_opened):
            return self.env._(
                "%(name)s was sent from elsewhere after this window was opened.",
                name=document.display_name,
            )
        if duplicate:
            return self.env._(
                "%(name)s has another line in this window.", name=document.display_name
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
        # The window's annexes go with every mail, each its own copy: a
        # mail's files belong to its message.
        copies = [
            annex.copy({"res_model": False, "res_id": 0}).id
            for annex in self.wizard_id.annex_ids - self.attachment_ids
        ]
        return {
            "email_to": recipients,
            "subject": self.subject,
            "body": self.body_html,
            "attachment_ids": self.attachment_ids.ids + copies,
            "report_id": self.report_id.id,
            "bcc": self.wizard_id.bcc_confirmation,
        }
