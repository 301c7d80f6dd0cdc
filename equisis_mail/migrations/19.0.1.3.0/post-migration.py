# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def migrate(cr, version):
    """From this version on, the background run stops a document sent from
    elsewhere while it waited. Whether the documents already queued were
    sent when they were queued is not known: they go, as they would have."""
    if not version:
        return
    cr.execute("UPDATE equisis_mail_queue SET sent_when_queued = TRUE")
