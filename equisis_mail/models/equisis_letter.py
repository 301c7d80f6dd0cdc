# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import html
import re

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import is_html_empty
from odoo.tools.rendering_tools import parse_inline_template

from odoo.addons.base.models.ir_qweb import QWebError

# A path of fields from the document: ``object.partner_id.ref``.
OBJECT_PATH = re.compile(r"\bobject((?:\.\w+)+)")
# The expressions of a QWeb element: t-out="...", t-if="...", t-att-href="...".
QWEB_EXPRESSION = re.compile(
    r"\bt-(?:out|esc|raw|if|elif|value|foreach|att-[\w-]+|attf-[\w-]+)"
    r"=(\"[^\"]*\"|'[^']*')"
)

TARGETS = [
    ("out_invoice", "Customer Invoice"),
    ("out_refund", "Customer Credit Note"),
    ("in_invoice", "Vendor Bill"),
    ("in_refund", "Vendor Credit Note"),
    ("contact", "Contact"),
]


class EquisisLetter(models.Model):
    """A letter: the print form or the accompanying text of a mailed document.

    Rendering goes through the host's ``mail.render.mixin``, so placeholders,
    sanitising, language formatting and the template-editor rule are those of
    ``mail.template``.
    """

    _name = "equisis.letter"
    _description = "Letter"
    _inherit = ["mail.render.mixin"]
    # Among letters that fit a document equally, the lowest priority wins,
    # then the oldest: a new letter never replaces another one silently.
    _order = "letter_type, target, sequence, id"
    _rec_names_search = ["code", "name"]
    _unrestricted_rendering = True

    # The mixin's dynamic language is not used: a letter has one language.
    lang = fields.Char(string="Rendering Language")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        string="Priority",
        default=10,
        help="When several letters fit the same kind of document and language, "
        "the one with the lowest number is chosen; on a tie, the oldest.",
    )
    code = fields.Char(required=True, index=True)
    name = fields.Char(
        string="Label",
        required=True,
        translate=False,
        help="For an accompanying text: the default subject of the mail. "
        "It may hold placeholders such as {{ object.name }}.",
    )
    letter_type = fields.Selection(
        selection=[
            ("print_form", "Print Form"),
            ("accompaniment", "Accompanying Text"),
        ],
        string="Type",
        required=True,
        default="accompaniment",
    )
    target = fields.Selection(
        selection=TARGETS,
        required=True,
        default="out_invoice",
        help="The kind of document this letter is for.",
    )
    lang_id = fields.Many2one(
        comodel_name="res.lang",
        string="Language",
        context={"active_test": False},
        help="The language the letter is written in. Amounts and dates are "
        "formatted the way this language writes them.",
    )
    body_html = fields.Html(
        render_engine="qweb",
        render_options={"post_process": True},
        sanitize="email_outgoing",
        translate=False,
    )
    report_id = fields.Many2one(
        comodel_name="ir.actions.report",
        domain="[('model', '=', render_model), ('report_type', '=', 'qweb-pdf')]",
        help="The PDF report this print form attaches to the mail.",
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        default=lambda self: self.env.company,
        index=True,
    )
    preview_move_id = fields.Many2one(
        comodel_name="account.move",
        string="Preview For",
        store=False,
        help="Pick a document to see the mail as it would be sent.",
    )
    preview_subject = fields.Char(compute="_compute_preview")
    preview_body = fields.Html(compute="_compute_preview", sanitize="email_outgoing")

    _code_company_uniq = models.UniqueIndex(
        "(code, COALESCE(company_id, 0))",
        "A letter with this code already exists in this company.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        """Check the author may write the letters' code before the
        constraints run it on a sample document; the host checks it after."""
        self._check_code_allowed(
            [
                (vals.get("name"), vals.get("body_html"), vals.get("target"))
                for vals in vals_list
            ]
        )
        return super().create(vals_list)

    def write(self, vals):
        """Same check as ``create``, on the letters as they would become."""
        if {"name", "body_html", "target"} & set(vals):
            self._check_code_allowed(
                [
                    (
                        vals.get("name", letter.name),
                        vals.get("body_html", letter.body_html),
                        vals.get("target", letter.target),
                    )
                    for letter in self
                ]
            )
        result = super().write(vals)
        if {"target", "company_id"} & set(vals):
            # The host checks the record rules on the letters as they were:
            # a manager of one kind of document could otherwise move a letter
            # of theirs to another kind's (an invoice's text).
            self.check_access("write")
        return result

    @api.depends("code", "name", "letter_type", "lang_id")
    def _compute_display_name(self):
        """Code and language: the label may hold placeholders."""
        for letter in self:
            if not letter.code:
                # A new letter: the host then says "New".
                letter.display_name = False
            elif letter.letter_type == "accompaniment" and letter.lang_id:
                letter.display_name = f"{letter.code} ({letter.lang_id.name})"
            else:
                letter.display_name = f"{letter.code} – {letter.name}"

    @api.depends("target")
    def _compute_render_model(self):
        models_by_target = self._target_models()
        for letter in self:
            letter.render_model = models_by_target.get(letter.target, "account.move")

    @api.model
    def _target_models(self):
        """The model of the documents of each target; glue addons add theirs."""
        return {
            **dict.fromkeys(
                ("out_invoice", "out_refund", "in_invoice", "in_refund"),
                "account.move",
            ),
            "contact": "res.partner",
        }

    @api.depends("preview_move_id", "name", "body_html", "lang_id")
    def _compute_preview(self):
        for letter in self:
            move = letter.preview_move_id
            if (
                not move
                or letter.letter_type != "accompaniment"
                or letter.render_model != "account.move"
            ):
                letter.preview_subject = False
                letter.preview_body = False
                continue
            try:
                rendered = letter._render_for_documents(move._origin)[move._origin.id]
            except Exception as error:  # noqa: BLE001 - shown to the user as is
                letter.preview_subject = False
                letter.preview_body = Markup("<p>%s</p>") % self.env._(
                    "This letter cannot be rendered: %(error)s", error=error
                )
                continue
            letter.preview_subject = rendered["subject"]
            letter.preview_body = rendered["body"]

    @api.constrains("letter_type", "report_id", "body_html")
    def _check_letter_content(self):
        for letter in self:
            if letter.letter_type == "print_form":
                if (
                    not letter.report_id
                    or letter.report_id.model != letter.render_model
                ):
                    raise ValidationError(
                        self.env._(
                            "The print form %(code)s needs a PDF report of the "
                            "documents of its target (%(model)s).",
                            code=letter.code,
                            model=self.env["ir.model"]._get(letter.render_model).name,
                        )
                    )
            elif is_html_empty(letter.body_html):
                raise ValidationError(
                    self.env._(
                        "The accompanying letter %(code)s needs a text in its "
                        "E-mail tab.",
                        code=letter.code,
                    )
                )

    @api.constrains("name")
    def _check_name_single_line(self):
        for letter in self:
            if letter.name and ("\r" in letter.name or "\n" in letter.name):
                raise ValidationError(
                    self.env._(
                        "The label of letter %(code)s is a mail subject: it must "
                        "fit on one line.",
                        code=letter.code,
                    )
                )

    @api.constrains("name", "body_html", "target", "lang_id", "letter_type")
    def _check_renders_on_a_sample(self):
        """Refuse a label or text that does not render on a document of its
        target, in plain words, rather than turn every line red at sending.

        Constraints run as superuser: whether the author may write code was
        checked before, in ``create`` and ``write``.
        """
        for letter in self.filtered(lambda l: l.letter_type == "accompaniment"):
            sample = self.env[letter.render_model].search(
                letter._sample_domain(), order="id desc", limit=1
            )
            if not sample:
                continue
            try:
                letter._render_for_documents(sample)
            except Exception as error:
                cause = error
                # The innermost error says what is wrong (an unknown field...).
                while cause.__cause__ or cause.__context__:
                    cause = cause.__cause__ or cause.__context__
                raise ValidationError(
                    self.env._(
                        "The letter %(code)s cannot be written for %(document)s: "
                        "%(reason)s. Check its placeholders.",
                        code=letter.code,
                        document=sample.display_name,
                        reason=str(cause).strip().splitlines()[0]
                        if str(cause).strip()
                        else type(cause).__name__,
                    )
                ) from error

    def _sample_domain(self):
        """The documents this letter is for, to try it on one of them: one
        of its author's companies, as its refusal names the document."""
        self.ensure_one()
        domain = []
        if "company_id" in self.env[self.render_model]._fields:
            domain = [("company_id", "in", [False, *self.env.user.company_ids.ids])]
        if self.render_model == "account.move":
            domain.append(("move_type", "=", self.target))
        return domain

    def _is_template_editor(self):
        """The host's rule: template editors (all users when "Restrict
        Template Rendering" is off) may write code in templates.

        The user who asked, even in a computation that runs as superuser:
        superuser rights must not let a user's own text run as code.
        """
        return self.env.user.has_group("mail.group_mail_template_editor")

    @api.model
    def _check_code_allowed(self, contents):
        """Refuse code from a user who may not write it, before it runs:
        found by compiling the label and text, never by running them.

        :param contents: (label, text, target) of each letter as it would be
        """
        if self._is_template_editor():
            return
        models_by_target = self._target_models()
        for name, body, target in contents:
            model = models_by_target.get(target, "account.move")
            if self._has_unsafe_expression_template_inline_template(
                name, model
            ) or self._has_unsafe_expression_template_qweb(body, model):
                raise AccessError(
                    self.env._(
                        "Only members of the %(group)s group may write code in a "
                        "letter. Use simple placeholders such as "
                        "{{ object.name }} instead.",
                        group=self.env.ref("mail.group_mail_template_editor").name,
                    )
                )

    def _is_saved_content(self):
        """A saved letter's label and text were checked when written, like a
        mail template's; a letter being edited holds text not checked yet."""
        origin = self._origin
        return bool(origin) and all(
            self[fname] == origin[fname] for fname in ("name", "body_html")
        )

    def _render_for_documents(self, documents, parts=("subject", "body")):
        """Render subject and/or body of this accompaniment for each document.

        Text being edited renders by the host's rules for a composer's typed
        text: code only for template editors.

        :return: {document id: {"subject": str, "body": str}} with the parts asked
        """
        self.ensure_one()
        if not self._is_saved_content():
            self._check_code_allowed([(self.name, self.body_html, self.target)])
        lang = self.lang_id.code if self.lang_id.active else False
        options = {"set_lang": lang} if lang else {}
        rendered = {res_id: {} for res_id in documents.ids}
        if "subject" in parts:
            for res_id, subject in self._render_field(
                "name", documents.ids, **options
            ).items():
                rendered[res_id]["subject"] = " ".join((subject or "").split())
        if "body" in parts:
            signature = self._signature_to_add()
            for res_id, body in self._render_field(
                "body_html", documents.ids, **options
            ).items():
                rendered[res_id]["body"] = (
                    Markup(body or "") + signature if signature else body
                )
        return rendered

    def _signature_to_add(self):
        """The sender's signature, for a text that has none of its own: every
        mail ends with it, also from a letter written from scratch, whose
        author may not write the code that places it."""
        self.ensure_one()
        signature = self.env.user.signature
        if "signature" in (self.body_html or "") or is_html_empty(signature):
            return Markup()
        return Markup('<div class="o_signature">%s</div>') % signature

    def _render_failure(self, document, error):
        """Why this letter cannot be written for one document, in the user's
        language: the placeholder that fails and the value it lacks. The
        host's message is in the letter's language and names its template
        engine and the exception: no reader of a red line can act on it.

        :param document: the document (in the user's environment)
        :param error: what rendering it raised
        :return: the reason, a translated sentence
        """
        self.ensure_one()
        values = {"code": self.code, "document": document.display_name}
        if isinstance(error, AccessError):
            return self.env._(
                "The letter %(code)s could not be rendered for %(document)s: "
                "%(reason)s",
                reason=error.args[0] if error.args else "",
                **values,
            )
        placeholder, expressions = self._failing_placeholder(document, error)
        if not placeholder:
            return self.env._(
                "The letter %(code)s could not be rendered for %(document)s: "
                "check its placeholders.",
                **values,
            )
        for expression in expressions:
            found = self._placeholder_gap(document, expression)
            if found and found[0] == "empty":
                return self.env._(
                    "The letter %(code)s could not be rendered for %(document)s: "
                    "its placeholder %(placeholder)s needs a value in "
                    "“%(value)s”, which is empty.",
                    placeholder=placeholder,
                    value=found[1],
                    **values,
                )
            if found:
                return self.env._(
                    "The letter %(code)s could not be rendered for %(document)s: "
                    "its placeholder %(placeholder)s names “%(name)s”, which is "
                    "not a field of %(model)s.",
                    placeholder=placeholder,
                    name=found[1],
                    model=found[2],
                    **values,
                )
        return self.env._(
            "The letter %(code)s could not be rendered for %(document)s: its "
            "placeholder %(placeholder)s does not work for this document.",
            placeholder=placeholder,
            **values,
        )

    def _failing_placeholder(self, document, error):
        """The placeholder that fails for this document, as the letter shows
        it, and its expressions.

        The host names the element of the text that failed; for the label,
        each of its placeholders is tried alone.

        :return: (placeholder, [expression]) or (False, [])
        """
        cause = error
        while cause is not None:
            if isinstance(cause, QWebError) and cause.qweb.element:
                expressions = [
                    html.unescape(value[1:-1])
                    for value in QWEB_EXPRESSION.findall(cause.qweb.element)
                ]
                if expressions:
                    return f"“{expressions[0]}”", expressions
            cause = cause.__cause__ or cause.__context__
        lang = self.lang_id.code if self.lang_id.active else False
        renderer = self.with_context(lang=lang) if lang else self
        for _text, expression, _default in parse_inline_template(self.name or ""):
            if not expression:
                continue
            try:
                placeholder = "{{ " + expression + " }}"
                renderer._render_template_inline_template(
                    placeholder, self.render_model, [document.id]
                )
            except Exception:  # noqa: BLE001 - the failing one is looked for
                return placeholder, [expression]
        return False, []

    def _placeholder_gap(self, document, expression):
        """Along each path of fields the expression reads from the document
        (``object.partner_id.ref.upper()``), the first value that is empty
        before the path goes on, or a name that is no field.

        :return: ("empty", field labels) or ("unknown", name, model label)
                 or None
        """
        for match in OBJECT_PATH.finditer(expression):
            names = match.group(1).split(".")[1:]
            value, labels = document, []
            for index, name in enumerate(names):
                if not isinstance(value, models.BaseModel):
                    break
                field = value._fields.get(name)
                if field is None:
                    if hasattr(value, name):
                        break
                    return (
                        "unknown",
                        name,
                        self.env["ir.model"]._get(value._name).name,
                    )
                labels.append(field._description_string(self.env))
                value = value[:1][name]
                empty = (
                    value is False
                    or value is None
                    or value == ""
                    or (isinstance(value, models.BaseModel) and not value)
                )
                if empty and index < len(names) - 1:
                    return "empty", " › ".join(labels)
        return None

    @api.model
    def _letter_domain(self, letter_type, company):
        return [
            ("letter_type", "=", letter_type),
            ("company_id", "in", [company.id, False]),
        ]

    @api.model
    def _choose_accompaniments(self, documents):
        """Choose the accompanying letter of each document.

        The letter of the document's target in the partner's language; else
        the same language family (fr_BE → fr_FR); else the company's language;
        else English; else any letter of that target.

        :return: {move id: letter (possibly empty)}
        """
        result = {}
        letters_by_key = {}
        # A contact shared by the companies has none: the user's current one.
        company_of = {
            document: document.company_id or self.env.company for document in documents
        }
        for company in set(company_of.values()):
            letters = self.search(self._letter_domain("accompaniment", company))
            for letter in letters:
                letters_by_key.setdefault((company.id, letter.target), self.browse())
                letters_by_key[(company.id, letter.target)] |= letter
        # Hundreds of documents share a few targets and languages.
        picked = {}
        for document in documents:
            company = company_of[document]
            key = (
                company.id,
                document._equisis_letter_target(),
                (document._equisis_partner().lang or "").strip(),
            )
            if key not in picked:
                picked[key] = self._pick_by_language(
                    letters_by_key.get(key[:2], self.browse()),
                    key[2],
                    company.partner_id.lang,
                )
            result[document.id] = picked[key]
        return result

    @api.model
    def _pick_by_language(self, candidates, lang, company_lang):
        """Pick among letters of one target by the language fallback chain."""
        if not candidates:
            return candidates

        def exact(code):
            return candidates.filtered(
                lambda letter: code and letter.lang_id.code == code
            )

        def family(code):
            prefix = (code or "").split("_")[0]
            matching = candidates.filtered(
                lambda letter: (
                    prefix and (letter.lang_id.code or "").split("_")[0] == prefix
                )
            )
            # Prefer the family's main language (fr_FR for fr_BE) when several.
            main = matching.filtered(
                lambda letter: letter.lang_id.code == f"{prefix}_{prefix.upper()}"
            )
            return main or matching

        for choice in (
            exact(lang),
            family(lang),
            exact(company_lang),
            family(company_lang),
            exact("en_US"),
            family("en_US"),
            candidates,
        ):
            if choice:
                return choice[:1]
        return candidates[:1]

    @api.model
    def _choose_print_forms(self, documents):
        """The print form of each document: among the print forms of its
        target, the one that prints the host's report for it (an RFQ and a
        purchase order differ), else the first one.

        :return: {document id: letter (possibly empty)}
        """
        letters = self.search(
            self._letter_domain("print_form", documents.company_id[:1])
        )
        result = {}
        for document in documents:
            target = document._equisis_letter_target()
            candidates = letters.filtered(lambda letter, t=target: letter.target == t)
            default = document._equisis_default_report()
            result[document.id] = (
                candidates.filtered(lambda letter, r=default: letter.report_id == r)
                or candidates
            )[:1]
        return result
