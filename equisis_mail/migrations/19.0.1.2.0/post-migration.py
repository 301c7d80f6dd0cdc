# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def migrate(cr, version):
    """Sent mails of the addon are deleted in time from this version on:
    as notifications of their chatter messages, so that the messages and
    their files stay."""
    if not version:
        return
    cr.execute(
        """
        UPDATE mail_mail
           SET is_notification = TRUE
         WHERE equisis_model IS NOT NULL AND is_notification IS NOT TRUE
        """
    )
