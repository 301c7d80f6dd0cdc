# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.modules.registry import Registry
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.equisis_mail.tests.common import (
    EquisisSendCase,
    cron_progress_without_commit,
    real_delivery,
)
from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestQueueJobEngine(EquisisSendCase):
    """With queue_job, a large batch becomes one job per chunk on the
    channel root.equisis_mail; each document is mailed once, as its sender."""

    def setUp(self):
        super().setUp()
        params = self.env["ir.config_parameter"]
        params.set_param("equisis_mail.background_threshold", 0)
        params.set_param("equisis_mail.chunk_size", 2)

    def test_one_job_per_chunk_each_document_mailed_once(self):
        partner = self.make_partner("Client", "client@example.com")
        moves = self.env["account.move"]
        for _index in range(3):
            moves |= self.make_invoice(partner)
        wizard = self.open_wizard(moves)
        with trap_jobs() as trap:
            self.send(wizard)
            trap.assert_jobs_count(2)
            for job in trap.enqueued_jobs:
                self.assertEqual(job.channel, "root.equisis_mail")
            self.assertFalse(self.smtp.received)
            self.assertEqual(set(moves.mapped("equisis_mail_state")), {"queued"})
            jobs = list(trap.enqueued_jobs)
            # A job runs on a cursor of its own (its function allows
            # commits): here, one on this test's transaction.
            with self.enter_registry_test_mode(), real_delivery(self.env):
                trap.perform_enqueued_jobs()
                # A job run again after its worker died mails nothing twice.
                for job in jobs:
                    job.perform()
        self.assertEqual(len(self.smtp.received), 3)
        self.assertEqual({mail.login for mail in self.smtp.received}, {"sender-login"})
        moves.invalidate_recordset()
        self.assertEqual(set(moves.mapped("equisis_mail_state")), {"sent"})
        self.assertTrue(all(moves.mapped("is_move_sent")))

    def test_job_run_by_queue_job_runner_commits_and_sends(self):
        """The runner forbids commits in a job unless its function allows
        them; the job commits each document's mail with its queue entry."""
        partner = self.make_partner("Client", "client@example.com")
        moves = self.make_invoice(partner) | self.make_invoice(partner)
        self.send(self.open_wizard(moves))
        (record,) = self.env["queue.job"].search(
            [("channel", "=", "root.equisis_mail")]
        )
        # As the runner's HTTP request does, on this test's transaction.
        with self.enter_registry_test_mode(), real_delivery(self.env):
            job = Job.load(self.env, record.uuid)
            RunJobController._runjob(self.env, job)
        record.invalidate_recordset()
        self.assertEqual(record.state, "done", record.exc_info)
        self.assertEqual(len(self.smtp.received), 2)
        moves.invalidate_recordset()
        self.assertEqual(set(moves.mapped("equisis_mail_state")), {"sent"})

    def test_batch_shorter_than_two_chunks_shared_by_two_jobs(self):
        self.env["ir.config_parameter"].set_param("equisis_mail.chunk_size", 50)
        partner = self.make_partner("Client", "client@example.com")
        moves = self.env["account.move"]
        for _index in range(30):
            moves |= self.make_invoice(partner)
        with trap_jobs() as trap:
            self.send(self.open_wizard(moves))
            self.assertEqual(
                sorted(len(job.args[0]) for job in trap.enqueued_jobs), [15, 15]
            )

    def test_scheduled_action_leaves_the_queue_to_the_jobs(self):
        partner = self.make_partner("Client", "client@example.com")
        move = self.make_invoice(partner)
        with trap_jobs() as trap:
            self.send(self.open_wizard(move))
            trap.assert_jobs_count(1)
            with real_delivery(self.env), cron_progress_without_commit(self.env):
                self.env["equisis.mail.service"]._cron_send()
                self.env["equisis.mail.service"]._cron_send_lane()
            self.assertFalse(self.smtp.received)
            self.assertEqual(move.equisis_mail_state, "queued")

    def test_scheduled_action_forgets_the_attempts_of_entries_gone(self):
        """The jobs own the queue, and the scheduled action still drops the
        attempts (committed on cursors of their own) whose entry is gone
        and whose transaction is over, as the lanes do without queue_job."""
        with Registry(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                SQL(
                    "INSERT INTO equisis_mail_attempt (entry_id, transaction) "
                    "VALUES (%s, pg_current_xact_id()::text) RETURNING id",
                    2**31 - 1,
                )
            )
            attempt_id = cr.fetchone()[0]
        self.addCleanup(self._remove_attempt, attempt_id)
        with cron_progress_without_commit(self.env):
            self.env["equisis.mail.service"]._cron_send()
        with Registry(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                SQL("SELECT 1 FROM equisis_mail_attempt WHERE id = %s", attempt_id)
            )
            self.assertFalse(cr.fetchall())

    def _remove_attempt(self, attempt_id):
        with Registry(self.env.cr.dbname).cursor() as cr:
            cr.execute(
                SQL("DELETE FROM equisis_mail_attempt WHERE id = %s", attempt_id)
            )
