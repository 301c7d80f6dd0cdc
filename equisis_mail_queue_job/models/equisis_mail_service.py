# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

CHANNEL = "root.equisis_mail"


class EquisisMailService(models.AbstractModel):
    """Background sending as OCA ``queue_job`` jobs: one job per chunk on
    the channel ``root.equisis_mail``, whose capacity the administrator
    sets, so that several Odoo servers share the work."""

    _inherit = "equisis.mail.service"

    @api.model
    def _schedule(self, entries):
        """One job per chunk; a batch shorter than two chunks is shared
        between two jobs, as between the scheduled action's two lanes, so
        that two workers render it at once."""
        size = self._share_size(len(entries))
        for start in range(0, len(entries), size):
            chunk = entries[start : start + size]
            self.sudo().with_delay(
                channel=CHANNEL,
                description=self.env._(
                    "Send %(count)s documents by e-mail", count=len(chunk)
                ),
            )._job_send_entries(chunk.ids)

    @api.model
    def _job_send_entries(self, entry_ids):
        """Send the documents of these queue entries, each as its sender.

        A job run again (queue_job retries one whose worker died) finds only
        the entries still queued: a document whose mail was made has no
        entry left. The job commits as it goes, as the scheduled action does
        (its job function allows commits).
        """
        # The job runs as the user who queued it; each mail is made with its
        # sender's rights below, the bookkeeping is the service's own.
        service = self.sudo()
        entries = (
            service.env["equisis.mail.queue"]
            .browse(entry_ids)
            .exists()
            .try_lock_for_update()
        )
        service._send_entries(entries)
        service._close_batches()
        return len(entries)

    @api.model
    def _cron_send(self):
        """The jobs own the queue; the scheduled action records what is
        left to record and delivers mails a dead process left behind."""
        self._record_outcomes()
        self._forget_guards()
        self._deliver_left_behind()
        self._close_batches()

    @api.model
    def _cron_send_lane(self):
        """The jobs own the queue: the second lane has nothing to do."""
        return
