# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import fields, models


class EquisisMailBatch(models.Model):
    """The documents one user sent to the background with one Send.

    It lets the sender be told once, when the whole batch is done: every
    document either has its mail's outcome (sent, refused, failed) or was
    not sent, with its reason. Only the sending service reads and writes
    it, as superuser; its sender is its ``create_uid``.
    """

    _name = "equisis.mail.batch"
    _description = "Background Batch of Document Mails"
    _order = "id"

    document_count = fields.Integer(readonly=True)
    not_sent = fields.Json(
        readonly=True,
        help="The documents whose mail could not be made: [model, id, reason].",
    )
    done = fields.Boolean(readonly=True, index=True)

    def _add_not_sent(self, record, reason):
        self.ensure_one()
        self.not_sent = [*(self.not_sent or []), [record._name, record.id, reason]]

    def _close_when_done(self):
        """Tell each sender whose batch is done what became of it."""
        Queue = self.env["equisis.mail.queue"].sudo()
        Mail = self.env["mail.mail"].sudo()
        for batch in self.filtered(lambda batch: not batch.done):
            if Queue.search_count([("batch_id", "=", batch.id)], limit=1):
                continue
            mails = Mail.search([("equisis_batch_id", "=", batch.id)])
            if mails.filtered(lambda mail: mail.state == "outgoing"):
                continue
            batch.done = True
            batch._post_summary(mails)

    def _superseded(self, mails):
        """The cancelled mails whose document a later mail took over: it was
        sent anew meanwhile, and its retry is no longer this batch's."""
        cancelled = mails.filtered(lambda mail: mail.state == "cancel")
        if not cancelled:
            return cancelled
        groups = (
            self.env["mail.mail"]
            .sudo()
            ._read_group(
                [
                    (
                        "equisis_model",
                        "in",
                        list(set(cancelled.mapped("equisis_model"))),
                    ),
                    ("equisis_res_id", "in", cancelled.mapped("equisis_res_id")),
                ],
                ["equisis_model", "equisis_res_id"],
                ["id:max"],
            )
        )
        latest = {(model, res_id): last_id for model, res_id, last_id in groups}
        return cancelled.filtered(
            lambda mail: latest[(mail.equisis_model, mail.equisis_res_id)] > mail.id
        )

    def _post_summary(self, mails):
        """One message in the sender's chat with OdooBot, in the sender's
        language: it shows inside Odoo whatever the sender's notification
        preference, with a link to each document that was not sent."""
        user = self.create_uid
        env = self.with_context(lang=user.lang).env
        superseded = self._superseded(mails)
        failed = [
            (mail.equisis_model, mail.equisis_res_id, mail.failure_reason or "")
            for mail in mails - superseded
            if mail.state in ("exception", "cancel")
        ]
        never_made = [tuple(item) for item in self.not_sent or []]
        sent = len(mails.filtered(lambda mail: mail.state == "sent"))
        body = Markup("<p>%s</p>") % env._(
            "Your e-mails of %(count)s documents are done: %(sent)s sent, "
            "%(failed)s not sent.",
            count=self.document_count,
            sent=sent,
            failed=len(failed) + len(never_made),
        )
        if superseded:
            body += Markup("<p>%s</p>") % env._(
                "Sent anew since, by another sending: %(count)s.",
                count=len(superseded),
            )
        for heading, items in (
            (env._("Not sent (fix the cause, then use “Retry e-mail”):"), failed),
            (
                env._(
                    "Not made (fix the cause, then send them again from the "
                    "send window):"
                ),
                never_made,
            ),
        ):
            if not items:
                continue
            documents = {
                (model, res_id): env[model].sudo().browse(res_id).exists()
                for model, res_id, _reason in items
            }
            body += Markup("<p>%s</p><ul>%s</ul>") % (
                heading,
                Markup().join(
                    Markup('<li><a href="/odoo/%s/%s">%s</a>: %s</li>')
                    % (
                        model,
                        res_id,
                        documents[(model, res_id)].display_name or res_id,
                        reason,
                    )
                    for model, res_id, reason in items
                ),
            )
        odoobot = env.ref("base.partner_root")
        chat = (
            env["discuss.channel"]
            .with_user(user)
            .sudo()
            ._get_or_create_chat([user.partner_id.id, odoobot.id])
        )
        chat.sudo().message_post(
            body=body,
            author_id=odoobot.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
