# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import is_html_empty

TARGETS = [
    ("out_invoice", "Customer Invoice"),
    ("out_refund", "Customer Credit Note"),
    ("in_invoice", "Vendor Bill"),
    ("in_refund", "Vendor Credit Note"),
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
    _order = "letter_type, target, sequence, code"
    _rec_names_search = ["code", "name"]
    _unrestricted_rendering = True

    # The mixin's dynamic language is not used: a letter has one language.
    lang = fields.Char(string="Rendering Language")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
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
        domain=[("model", "=", "account.move"), ("report_type", "=", "qweb-pdf")],
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

    @api.depends("code", "name", "letter_type", "lang_id")
    def _compute_display_name(self):
        """Code and language: the label may hold placeholders."""
        for letter in self:
            if letter.letter_type == "accompaniment" and letter.lang_id:
                letter.display_name = f"{letter.code} ({letter.lang_id.name})"
            else:
                letter.display_name = f"{letter.code} – {letter.name}"

    @api.depends("target")
    def _compute_render_model(self):
        self.render_model = "account.move"

    @api.depends("preview_move_id", "name", "body_html", "lang_id")
    def _compute_preview(self):
        for letter in self:
            move = letter.preview_move_id
            if not move or letter.letter_type != "accompaniment":
                letter.preview_subject = False
                letter.preview_body = False
                continue
            try:
                rendered = letter._render_for_moves(move._origin)[move._origin.id]
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
                if not letter.report_id or letter.report_id.model != "account.move":
                    raise ValidationError(
                        self.env._(
                            "The print form %(code)s needs a PDF report of journal "
                            "entries (invoices).",
                            code=letter.code,
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

    def _render_for_moves(self, moves, parts=("subject", "body")):
        """Render subject and/or body of this accompaniment for each document.

        :return: {move id: {"subject": str, "body": str}} with the parts asked
        """
        self.ensure_one()
        lang = self.lang_id.code if self.lang_id.active else False
        options = {"set_lang": lang} if lang else {}
        rendered = {move_id: {} for move_id in moves.ids}
        if "subject" in parts:
            for move_id, subject in self._render_field(
                "name", moves.ids, **options
            ).items():
                rendered[move_id]["subject"] = " ".join((subject or "").split())
        if "body" in parts:
            for move_id, body in self._render_field(
                "body_html", moves.ids, **options
            ).items():
                rendered[move_id]["body"] = body
        return rendered

    @api.model
    def _letter_domain(self, letter_type, company):
        return [
            ("letter_type", "=", letter_type),
            ("company_id", "in", [company.id, False]),
        ]

    @api.model
    def _choose_accompaniments(self, moves):
        """Choose the accompanying letter of each document.

        The letter of the document's target in the partner's language; else
        the same language family (fr_BE → fr_FR); else the company's language;
        else English; else any letter of that target.

        :return: {move id: letter (possibly empty)}
        """
        result = {}
        letters_by_key = {}
        for company in moves.company_id:
            letters = self.search(self._letter_domain("accompaniment", company))
            for letter in letters:
                letters_by_key.setdefault((company.id, letter.target), self.browse())
                letters_by_key[(company.id, letter.target)] |= letter
        for move in moves:
            candidates = letters_by_key.get(
                (move.company_id.id, move.move_type), self.browse()
            )
            result[move.id] = self._pick_by_language(
                candidates,
                (move.partner_id.lang or "").strip(),
                move.company_id.partner_id.lang,
            )
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
    def _choose_print_form(self, moves):
        """The print-form letter for each document target, falling back on the
        host's invoice report when no letter exists.

        :return: {move type: letter (possibly empty)}
        """
        letters = self.search(self._letter_domain("print_form", moves.company_id[:1]))
        return {
            move_type: letters.filtered(
                lambda letter, mt=move_type: letter.target == mt
            )[:1]
            for move_type in set(moves.mapped("move_type"))
        }

    def _get_report(self):
        """The report of a print form, or the host's invoice report."""
        return self.report_id or self.env.ref("account.account_invoices")
