# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.modules.registry import Registry
from odoo.tools import SQL

from .equisis_mail_handoff import STATUS

# A document whose making stopped its process this many times, made on its
# own, is not tried again: it fails with the reason.
STOPPED_ALONE_LIMIT = 2


class EquisisMailAttempt(models.Model):
    """A background run's attempt at making the mails of a queue entry.

    The row is committed on a cursor of its own when the run starts making
    the entry's documents, while the entry itself stays locked and
    untouched. A process that is stopped in the middle (Odoo's time or
    memory limit for a worker, a restart) does not remove the entry: it is
    queued again, and this row is left behind, its transaction over.
    Without it, the document that stops the process would be taken again
    with the same chunk, forever, and the queue behind it with it.
    """

    _name = "equisis.mail.attempt"
    _description = "Attempt at Making a Queued Mail"
    _log_access = False

    entry_id = fields.Integer(required=True, index=True, readonly=True)
    transaction = fields.Char(required=True, readonly=True)
    alone = fields.Boolean(
        readonly=True, help="The entry's document was made on its own."
    )

    @api.model
    def _equisis_begin(self, entries):
        """Commit, now, that this transaction starts making these entries'
        mails (one statement on a cursor of its own: once per chunk)."""
        transaction = self.env["equisis.mail.handoff"]._equisis_current_transaction()
        alone = len(entries) == 1
        with Registry(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                SQL(
                    "INSERT INTO %s (entry_id, transaction, alone) "
                    "SELECT entry_id, %s, %s FROM unnest(%s) AS entry_id",
                    SQL.identifier(self._table),
                    transaction,
                    alone,
                    entries.ids,
                )
            )

    @api.model
    def _equisis_stopped(self, entries):
        """The earlier attempts at these entries, read on a fresh snapshot.
        The entries are still queued and this transaction holds them: each
        attempt whose transaction is over ended without making them (its
        process stopped, or an error rolled it back), even one that
        committed before (a localisation's e-invoice step may commit).

        :return: {entry id: (attempts, attempts alone in their chunk)}
        """
        own = self.env["equisis.mail.handoff"]._equisis_current_transaction()
        with Registry(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT entry_id, count(*), count(*) FILTER (WHERE alone) "
                    "FROM %s WHERE entry_id = ANY(%s) AND transaction != %s "
                    "AND %s IS DISTINCT FROM 'in progress' GROUP BY entry_id",
                    SQL.identifier(self._table),
                    entries.ids,
                    own,
                    STATUS,
                )
            )
            return {
                entry_id: (count, alone) for entry_id, count, alone in cr.fetchall()
            }

    @api.model
    def _equisis_forget(self):
        """Drop, on a cursor of its own, the attempts at entries no longer
        queued, whose transaction is over."""
        with Registry(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                SQL(
                    """
                    DELETE FROM %s attempt
                     WHERE %s IS DISTINCT FROM 'in progress'
                       AND NOT EXISTS (
                           SELECT 1 FROM %s entry
                            WHERE entry.id = attempt.entry_id
                       )
                    """,
                    SQL.identifier(self._table),
                    STATUS,
                    SQL.identifier(self.env["equisis.mail.queue"]._table),
                )
            )
