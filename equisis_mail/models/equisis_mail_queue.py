# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class EquisisMailQueue(models.Model):
    """A document mail waiting for the background run.

    Only the sending service creates, reads and deletes these records, as
    superuser: no user has any access right on them. The sender is the
    record's ``create_uid``, the user who asked, and nothing else: no value a
    user can write decides who sends.
    """

    _name = "equisis.mail.queue"
    _description = "Queued Document Mail"
    _order = "id"

    res_model = fields.Char(string="Document Model", required=True, readonly=True)
    res_id = fields.Integer(string="Document", required=True, readonly=True)
    values = fields.Json(readonly=True)
    batch_id = fields.Many2one(
        "equisis.mail.batch", readonly=True, index=True, ondelete="cascade"
    )
    # A document the host considered sent when it was queued was sent again
    # on purpose; one sent while it waited was sent from elsewhere.
    sent_when_queued = fields.Boolean(readonly=True)

    _document_uniq = models.UniqueIndex(
        "(res_model, res_id)",
        "This document is already waiting to be sent.",
    )
