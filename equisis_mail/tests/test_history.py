# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The e-mail status is stored on the document, and filled on upgrade."""

from collections import Counter

from lxml import etree

from odoo.fields import Domain
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger
from odoo.tools.safe_eval import safe_eval

from ..models.equisis_mail_document import STATUS_FIELDS
from .common import EquisisSendCase, real_delivery

# The statuses of a history repeat every HISTORY_CYCLE copies (a multiple of
# the periods of history_state).
HISTORY_CYCLE = 300
HISTORY_PREFIX = "HIST/"


def history_state(number):
    """The e-mail status of copy ``number`` of a history: one in fifty
    failed, one in a hundred partly refused, a third of the rest sent, the
    rest never mailed (False)."""
    if number % 50 == 0:
        return "failed"
    if number % 100 == 25:
        return "partial"
    if number % 3 == 0:
        return "sent"
    return False


def make_history(seed, count, partners):
    """Copy the posted invoice ``seed`` into ``count`` invoices named
    ``HIST/<number>``, in one INSERT ... SELECT: through the ORM a history of
    this size would take hours.

    Copy ``number`` has the status ``history_state(number)``, goes to one of
    ``partners`` in turn and is dated ``number % 3650`` days before the seed,
    so that the list's order and the host's duplicate detection see a
    plausible ten years. The copies are headers without lines: what a list
    reads and filters.
    """
    env = seed.env
    varied = {
        "id",
        "name",
        "date",
        "invoice_date",
        "invoice_date_due",
        "partner_id",
        "commercial_partner_id",
        "partner_shipping_id",
        "invoice_partner_display_name",
        *STATUS_FIELDS,
    }
    copied = [
        name
        for name, field in seed._fields.items()
        if field.store and field.column_type and name not in varied
    ]
    env.flush_all()
    env.cr.execute(
        SQL(
            """
            INSERT INTO account_move (
                %(columns)s, name, date, invoice_date, invoice_date_due,
                partner_id, commercial_partner_id, partner_shipping_id,
                invoice_partner_display_name, equisis_mail_state,
                equisis_mail_failure, equisis_mail_sent_date, equisis_mail_sent_to
            )
            SELECT %(seed_columns)s,
                   concat(%(prefix)s::text, lpad(n::text, 7, '0')),
                   seed.date - mod(n, 3650),
                   seed.invoice_date - mod(n, 3650),
                   seed.invoice_date_due - mod(n, 3650),
                   partner.id, partner.commercial_partner_id, partner.id,
                   partner.name, status.state,
                   CASE WHEN status.state IN ('failed', 'partial')
                        THEN %(failure)s END,
                   CASE WHEN status.state IN ('sent', 'partial')
                        THEN seed.create_date - make_interval(days => mod(n, 3650))
                   END,
                   CASE WHEN status.state IN ('sent', 'partial')
                        THEN partner.email END
              FROM account_move AS seed
             CROSS JOIN generate_series(1, %(count)s) AS n
             CROSS JOIN LATERAL (
                   SELECT (%(states)s::varchar[])[1 + mod(n, %(cycle)s)] AS state
             ) AS status
              JOIN res_partner AS partner
                ON partner.id = (%(partners)s::int4[])[1 + mod(n, %(partner_count)s)]
             WHERE seed.id = %(seed)s
            """,
            columns=SQL(", ").join(SQL.identifier(name) for name in copied),
            seed_columns=SQL(", ").join(
                SQL.identifier("seed", name) for name in copied
            ),
            prefix=HISTORY_PREFIX,
            failure="550 5.1.1 No such user",
            count=count,
            states=[history_state(number) or None for number in range(HISTORY_CYCLE)],
            cycle=HISTORY_CYCLE,
            partners=partners.ids,
            partner_count=len(partners),
            seed=seed.id,
        )
    )
    env.invalidate_all()


def list_specification(views, model="account.move"):
    """What the web client asks ``web_search_read`` for the list view of
    ``views`` (a ``get_views`` answer): every field of the list, the display
    name of a many2one."""
    fields = views["models"][model]["fields"]
    return {
        node.get("name"): (
            {"fields": {"display_name": {}}}
            if fields[node.get("name")]["type"] == "many2one"
            else {}
        )
        for node in etree.fromstring(views["views"]["list"]["arch"]).iterchildren(
            "field"
        )
    }


def invoice_list(env):
    """The customer invoices' list as the menu opens it: its model with the
    action's context, the action's domain, its list and search views (the
    action read as superuser, as the web client loads it)."""
    action = env.ref("account.action_move_out_invoice_type").sudo()
    Move = env["account.move"].with_context(
        safe_eval(action.context or "{}"), bin_size=True
    )
    views = Move.get_views(
        [(action.view_id.id, "list"), (action.search_view_id.id, "search")]
    )
    return Move, Domain(safe_eval(action.domain or "[]")), views


def search_filter(views, name, env):
    """The domain of the search view's filter ``name``, as the client
    evaluates it."""
    node = etree.fromstring(views["views"]["search"]["arch"]).xpath(
        "//filter[@name=$name]", name=name
    )[0]
    return Domain(safe_eval(node.get("domain"), {"uid": env.uid, "context": {}}))


@tagged("post_install", "-at_install")
class TestMailHistory(EquisisSendCase):
    def _old_mail(self, move, state, **values):
        """A mail as the previous versions kept it: the status lived on it."""
        return (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "equisis_model": "account.move",
                    "equisis_res_id": move.id,
                    "state": state,
                    "email_to": "client@example.com",
                    "auto_delete": False,
                    "body_html": "<p>Invoice</p>",
                    **values,
                }
            )
        )

    def test_upgrade_fills_the_status_from_the_mails_of_before(self):
        partner = self.make_partner("Client", "client@example.com")
        failed, sent_after_failure, partial, never, queued = (
            self.make_invoice(partner) for _index in range(5)
        )
        self._old_mail(failed, "sent")
        self._old_mail(failed, "exception", failure_reason="550 5.1.1 No such user")
        self._old_mail(sent_after_failure, "exception", failure_reason="old")
        self._old_mail(sent_after_failure, "sent")
        self._old_mail(partial, "sent", equisis_refused="x@example.com: 550 refused")
        self.env["equisis.mail.queue"].sudo().create(
            {"res_model": "account.move", "res_id": queued.id, "values": {}}
        )
        moves = failed | sent_after_failure | partial | never | queued
        # The previous versions had no column: nothing stored yet.
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET equisis_mail_state = NULL, "
                "equisis_mail_failure = NULL, equisis_mail_sent_date = NULL "
                "WHERE id IN %s",
                tuple(moves.ids),
            )
        )
        moves.invalidate_recordset()
        self.assertFalse(any(moves.mapped("equisis_mail_state")))
        # Small batches, so that the documents span several of them.
        self.env["account.move"]._equisis_fill_mail_state(batch=2)
        self.assertEqual(failed.equisis_mail_state, "failed")
        self.assertEqual(failed.equisis_mail_failure, "550 5.1.1 No such user")
        self.assertTrue(failed.equisis_mail_sent_date)
        self.assertEqual(sent_after_failure.equisis_mail_state, "sent")
        self.assertFalse(sent_after_failure.equisis_mail_failure)
        self.assertEqual(partial.equisis_mail_state, "partial")
        self.assertIn("550 refused", partial.equisis_mail_failure)
        self.assertFalse(never.equisis_mail_state)
        self.assertEqual(queued.equisis_mail_state, "queued")
        # The list's "E-mail failed" filter reads the stored field.
        Move = self.env["account.move"].with_user(self.sender)
        self.assertEqual(
            Move.search(
                [
                    ("id", "in", moves.ids),
                    ("equisis_mail_state", "in", ["failed", "partial"]),
                ]
            ),
            failed | partial,
        )

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_status_is_written_where_the_outcome_is_recorded(self):
        partner = self.make_partner("Client", "client@example.com")
        move = self.make_invoice(partner)
        self.smtp.refuse_recipient("client@example.com", "550 5.2.2 Mailbox full")
        self.send(self.open_wizard(move))
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT equisis_mail_state, equisis_mail_failure "
                "FROM account_move WHERE id = %s",
                move.id,
            )
        )
        state, failure = self.env.cr.fetchone()
        self.assertEqual(state, "failed")
        self.assertIn("Mailbox full", failure)
        self.smtp.reset()
        self.send(self.open_wizard(move))
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT equisis_mail_state, equisis_mail_sent_to "
                "FROM account_move WHERE id = %s",
                move.id,
            )
        )
        self.assertEqual(self.env.cr.fetchone(), ("sent", "client@example.com"))

    def _age(self, mails, days):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE mail_mail SET write_date = now() - make_interval(days => %s) "
                "WHERE id IN %s",
                days,
                tuple(mails.ids),
            )
        )
        mails.invalidate_recordset()

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_sent_mails_are_deleted_in_time_and_what_they_told_stays(self):
        """The mail table does not grow forever: a sent mail is deleted once
        recorded and old enough for no bounce to come; its chatter message
        and files, the status and the window's "Sent on" note stay. A failed
        mail stays for Retry, and so does a sent one not recorded yet."""
        Mail = self.env["mail.mail"].sudo()
        partner = self.make_partner("Client", "client@example.com")
        sent, failed, unrecorded = (self.make_invoice(partner) for _index in range(3))
        self.send(self.open_wizard(sent))
        mail = Mail.search([("equisis_res_id", "=", sent.id)])
        self.assertEqual((mail.state, mail.equisis_reported), ("sent", True))
        message = mail.mail_message_id
        self.assertTrue(message.attachment_ids)
        self.smtp.refuse_recipient("client@example.com")
        self.send(self.open_wizard(failed))
        failed_mail = Mail.search([("equisis_res_id", "=", failed.id)])
        self.assertEqual(failed_mail.state, "exception")
        self.smtp.reset()
        self.send(self.open_wizard(unrecorded))
        unrecorded_mail = Mail.search([("equisis_res_id", "=", unrecorded.id)])
        unrecorded_mail.equisis_reported = False

        # A bounce may still come: the mail stays for the retention time.
        Mail._gc_equisis_sent_mails()
        self.assertTrue(mail.exists())
        self._age(mail | failed_mail | unrecorded_mail, 8)
        self.assertEqual(Mail._gc_equisis_sent_mails(), (1, False))

        self.assertFalse(mail.exists())
        self.assertTrue(failed_mail.exists())
        self.assertTrue(unrecorded_mail.exists())
        self.assertTrue(message.exists())
        self.assertIn("E-mail to client@example.com", str(message.body))
        self.assertTrue(message.attachment_ids)
        self.assertEqual(sent.equisis_mail_state, "sent")
        again = self.open_wizard(sent)
        self.assertIn("to client@example.com", again.line_ids.sent_note)
        self.assertTrue(again.line_ids.already_sent)
        # Retry still finds the failed mail.
        with real_delivery(self.env):
            failed.with_user(self.sender).action_equisis_retry_mail()
        self.assertEqual(failed.equisis_mail_state, "sent")

    def test_failed_filter_is_a_group_of_its_own(self):
        """Filters of one group are OR'ed by the web client: "E-mail failed"
        next to "Posted" or "Archived" would widen them, not narrow."""
        for model, view in (
            ("account.move", "account.view_account_invoice_filter"),
            ("res.partner", "base.view_res_partner_filter"),
        ):
            views = self.env[model].get_views([(self.env.ref(view).id, "search")])
            arch = etree.fromstring(views["views"]["search"]["arch"])
            failed = arch.xpath("//filter[@name='equisis_mail_failed']")[0]
            for sibling in (failed.getprevious(), failed.getnext()):
                self.assertIn(
                    sibling.tag if sibling is not None else "separator",
                    ("separator", "group"),
                    model,
                )


@tagged("post_install", "-at_install")
class TestMailHistoryAtScale(EquisisSendCase):
    """The invoice list's e-mail filters and column on a long history."""

    def _statuses(self, Move, domain):
        """How many documents of ``domain`` have each status: the list
        grouped by its e-mail column."""
        return Counter(
            dict(Move._read_group(domain, ["equisis_mail_state"], ["__count"]))
        )

    def test_list_filters_on_a_large_history(self):
        count = 20000
        partners = self.env["res.partner"].create(
            [
                {"name": f"History Client {index}", "email": f"c{index}@example.com"}
                for index in range(7)
            ]
        )
        seed = self.make_invoice(partners[0])
        Move, action_domain, views = invoice_list(self.env(user=self.sender))
        failed = action_domain & search_filter(views, "equisis_mail_failed", Move.env)
        # The search view has no "sent" filter: a count of the sent ones is
        # the domain a custom filter or the grouped list gives.
        sent = action_domain & Domain("equisis_mail_state", "=", "sent")
        before = {
            "failed": Move.search_count(failed),
            "sent": Move.search_count(sent),
            "groups": self._statuses(Move, action_domain),
        }
        make_history(seed, count, partners)
        expected = Counter(history_state(number) for number in range(1, count + 1))
        self.assertEqual(
            Move.search_count(failed) - before["failed"],
            expected["failed"] + expected["partial"],
        )
        self.assertEqual(Move.search_count(sent) - before["sent"], expected["sent"])
        groups = self._statuses(Move, action_domain)
        groups.subtract(before["groups"])
        self.assertEqual(+groups, +expected)
        # A page of the list with the filter, as the web client reads it.
        specification = list_specification(views)
        self.assertIn("equisis_mail_state", specification)
        page = Move.web_search_read(failed, specification, limit=80, count_limit=10001)
        self.assertEqual(len(page["records"]), 80)
        self.assertEqual(
            page["length"], before["failed"] + expected["failed"] + expected["partial"]
        )
        self.assertEqual(
            {record["equisis_mail_state"] for record in page["records"]},
            {"failed", "partial"},
        )
        # The list's first page, in its default order (newest first): the
        # column shows each copy's stored status.
        page = Move.web_search_read(
            action_domain, specification, limit=80, count_limit=10001
        )
        self.assertEqual(page["length"], 10001)
        history = [
            record
            for record in page["records"]
            if record["name"].startswith(HISTORY_PREFIX)
        ]
        self.assertGreater(len(history), 40)
        for record in history:
            number = int(record["name"].removeprefix(HISTORY_PREFIX))
            self.assertEqual(record["equisis_mail_state"], history_state(number))
        # With statistics as autovacuum keeps them, the failed filter reads
        # the status's index rather than the whole table.
        self.env.cr.execute(SQL("ANALYZE account_move"))
        self.env.cr.execute(SQL("EXPLAIN %s", Move._search(failed).select()))
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("account_move__equisis_mail_state_index", plan)
