# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.modules.registry import Registry
from odoo.tools import SQL

# What became of a hand-off's transaction. An id this cluster has not reached
# yet (a database restored into another cluster) tells nothing: NULL, as an
# id too old to be known.
STATUS = SQL(
    "CASE WHEN transaction::xid8 < pg_snapshot_xmax(pg_current_snapshot()) "
    "THEN pg_xact_status(transaction::xid8) END"
)
# ``cr.cache`` key of the current transaction's id: asked once per mail
# handed over, and ``cr.cache`` is cleared with each commit and rollback.
TRANSACTION_KEY = "equisis_mail_transaction"


class EquisisMailHandoff(models.Model):
    """A mail of the addon handed to an SMTP server, before its answer.

    The row is committed on a cursor of its own just before the SMTP
    transaction starts, while the mail's own row waits for the commit of
    its outcome. A process that dies in between (the server has accepted
    the mail, the state is not committed yet) leaves the mail outgoing and
    this row behind, with the id of a transaction that never committed: the
    next process that takes the mail knows it may have left, and does not
    hand it to SMTP a second time.
    """

    _name = "equisis.mail.handoff"
    _description = "Mail Handed to SMTP"
    _log_access = False

    mail_id = fields.Integer(required=True, index=True, readonly=True)
    transaction = fields.Char(
        required=True,
        readonly=True,
        help="The PostgreSQL transaction that records the mail's outcome.",
    )
    handed_date = fields.Datetime(default=fields.Datetime.now, readonly=True)

    @api.model
    def _equisis_current_transaction(self):
        cache = self.env.cr.cache
        if TRANSACTION_KEY not in cache:
            self.env.cr.execute("SELECT pg_current_xact_id()::text")
            cache[TRANSACTION_KEY] = self.env.cr.fetchone()[0]
        return cache[TRANSACTION_KEY]

    @api.model
    def _equisis_hand(self, mail_id):
        """Commit, now, that this transaction hands this mail to SMTP.

        One statement on a cursor of its own, as the ORM would insert the
        row: it runs once per mail, between the mail's build and its SMTP
        transaction.
        """
        transaction = self._equisis_current_transaction()
        with Registry(self.env.cr.dbname).cursor() as cr:
            # Visible to every other process once committed; only a crash of
            # the database server itself in the next fraction of a second
            # could lose it, and the sending transaction with it. Waiting for
            # the disk here would cost a flush per mail.
            cr.execute(
                SQL(
                    "SET LOCAL synchronous_commit TO OFF; "
                    "INSERT INTO %s (mail_id, transaction, handed_date) "
                    "VALUES (%s, %s, %s)",
                    SQL.identifier(self._table),
                    mail_id,
                    transaction,
                    fields.Datetime.now(),
                )
            )

    @api.model
    def _equisis_fate(self, mail_id):
        """What earlier hand-offs of this outgoing mail say, read on a
        fresh snapshot (one taken before they committed would miss them).

        :return: ``"unknown"`` when a process handed it to SMTP and ended
            without committing its outcome, ``"busy"`` when another
            transaction is handing it over now, else ``False``
        """
        own = self._equisis_current_transaction()
        with Registry(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT %s FROM equisis_mail_handoff "
                    "WHERE mail_id = %s AND transaction != %s",
                    STATUS,
                    mail_id,
                    own,
                )
            )
            statuses = {status for (status,) in cr.fetchall()}
        if "in progress" in statuses:
            return "busy"
        # The mail is outgoing: whatever the transaction became (aborted,
        # unknown, or even committed, its state write rolled back in a
        # savepoint), its outcome was not recorded.
        if statuses:
            return "unknown"
        return False

    @api.model
    def _equisis_forget(self, mail_ids=None):
        """Drop, at once and on a cursor of its own, the hand-offs of these
        mails (of all mails when None) that no longer guard anything: none
        under way, none of a mail still outgoing.

        A Retry calls it before its own commit (the next sender reads the
        hand-offs on a fresh snapshot, so dropping them in the Retry's
        transaction would come too late); the scheduled action cleans up the
        rest without holding their rows in its long transaction.
        """
        with Registry(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                SQL(
                    """
                    DELETE FROM equisis_mail_handoff handoff
                     WHERE %s IS DISTINCT FROM 'in progress'
                       AND NOT EXISTS (
                           SELECT 1 FROM mail_mail mail
                            WHERE mail.id = handoff.mail_id
                              AND mail.state = 'outgoing'
                       )
                       %s
                    """,
                    STATUS,
                    SQL("AND mail_id = ANY(%s)", list(mail_ids))
                    if mail_ids is not None
                    else SQL(),
                )
            )
