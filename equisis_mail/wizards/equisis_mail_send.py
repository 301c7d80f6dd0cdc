# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class EquisisMailSend(models.TransientModel):
    """The send window: one line per document, red where something is missing."""

    _name = "equisis.mail.send"
    _description = "Send Documents by E-mail"

    move_ids = fields.Many2many(
        comodel_name="account.move",
    )
    print_form_id = fields.Many2one(
        comodel_name="equisis.letter",
        domain="[('letter_type', '=', 'print_form'), ('target', 'in', target_list)]",
        help="Which PDF goes with each mail. Documents of another kind use "
        "the print form of their own kind.",
    )
    letter_id = fields.Many2one(
        comodel_name="equisis.letter",
        string="Accompanying Letter",
        domain="[('letter_type', '=', 'accompaniment'), ('target', 'in', target_list)]",
        help="Leave empty to give each document the letter in its customer's "
        "language. Pick one to use it for every document of its kind.",
    )
    bcc_confirmation = fields.Boolean(
        string="BCC Confirmation",
        default=lambda self: self.env.user.bcc_confirmation,
        help="Receive a blind copy of each mail (SMTP envelope only).",
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
    problem_count = fields.Integer(compute="_compute_counts")
    ready_count = fields.Integer(compute="_compute_counts")
    result_message = fields.Char(readonly=True)

    def _compute_user_id(self):
        self.user_id = self.env.user

    def _compute_sender_server(self):
        self.sender_server = self.env.user.equisis_smtp_summary

    @api.depends("move_ids")
    def _compute_target_list(self):
        for wizard in self:
            wizard.target_list = sorted(set(wizard.move_ids.mapped("move_type")))

    @api.depends("line_ids.sending_note")
    def _compute_has_sending_note(self):
        for wizard in self:
            wizard.has_sending_note = any(wizard.line_ids.mapped("sending_note"))

    @api.depends("line_ids.problem")
    def _compute_counts(self):
        for wizard in self:
            wizard.problem_count = len(wizard.line_ids.filtered("problem"))
            wizard.ready_count = len(wizard.line_ids) - wizard.problem_count

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        for wizard in wizards.filtered(lambda w: not w.line_ids and w.move_ids):
            wizard._build_lines()
        return wizards

    def _build_lines(self):
        """One line per document, its values read for the whole batch at once."""
        self.ensure_one()
        moves = self.move_ids
        Letter = self.env["equisis.letter"]
        accompaniments = Letter._choose_accompaniments(moves)
        if not self.print_form_id:
            print_forms = Letter._choose_print_form(moves)
            first = next((letter for letter in print_forms.values() if letter), False)
            self.print_form_id = first
        partners = moves.partner_id
        recipients = partners._equisis_invoice_recipients()
        annexes = (
            self._annexes_by_move(moves)
            if self.env.company.send_annexes_by_mail
            else {}
        )
        self.line_ids = [
            Command.create(
                {
                    "move_id": move.id,
                    "sent_when_opened": move.is_move_sent,
                    "partner_id": move.partner_id.id,
                    "email_to": "; ".join(recipients.get(move.partner_id.id, [])),
                    "letter_id": (
                        self.letter_id
                        if self.letter_id.target == move.move_type
                        else accompaniments[move.id]
                    ).id,
                    "attachment_ids": [Command.set(annexes.get(move.id, []))],
                }
            )
            for move in moves
        ]

    @api.model
    def _annexes_by_move(self, moves):
        """The files attached to each document, its own legal PDF aside."""
        attachments = self.env["ir.attachment"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "in", moves.ids),
                ("res_field", "=", False),
                ("mimetype", "!=", False),
            ]
        )
        result = {}
        for attachment in attachments:
            result.setdefault(attachment.res_id, []).append(attachment.id)
        return result

    @api.onchange("letter_id")
    def _onchange_letter_id(self):
        for line in self.line_ids:
            if self.letter_id and self.letter_id.target == line.move_type:
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
            "context": self.env.context,
        }

    def action_send(self):
        """Send every line without problem; keep the others listed."""
        self.ensure_one()
        lines = self.line_ids
        Service = self.env["equisis.mail.service"]
        # Under the claim, a document another user sent meanwhile is seen as
        # sent, and its line turns red instead of mailing it a second time.
        Service._claim(lines.move_id)
        # The host's e-invoice checks run again on Send: the user may have
        # fixed the customer since.
        lines.document_error = False
        lines._render_bodies_for_sending()
        lines._compute_problem()
        ready = lines.filtered(lambda line: not line.problem)
        if not ready:
            raise UserError(
                self.env._(
                    "No mail can be sent: every line lacks something.\n%(problems)s",
                    problems="\n".join(
                        f"- {line.move_id.display_name or ''}: {line.problem}"
                        for line in lines[:10]
                    ),
                )
            )
        result = Service._send({line.move_id: line._sending_values() for line in ready})
        for line in ready:
            line.document_error = result["errors"].get(line.move_id, False)
        done = ready.filtered(lambda line: not line.document_error)
        left = lines - done
        count = len(done)
        done.unlink()
        if result["queued"]:
            message = self.env._(
                "%(count)s mail(s) are being sent in the background. You will be "
                "notified when they are done.",
                count=count,
            )
        else:
            message = self.env._("%(count)s mail(s) sent.", count=count)
        if left:
            self.result_message = self.env._(
                "%(message)s %(left)s line(s) could not be sent: see why in red.",
                message=message,
                left=len(left),
            )
            return self._reopen()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": message,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
