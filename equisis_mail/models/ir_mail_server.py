# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import smtplib
import ssl

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize
from odoo.tools.mail import email_split

ENVELOPE_BCC_HEADER = "X-Equisis-Envelope-Bcc"
# Key of ``cr.cache`` where a delivery keeps, by Message-Id, the recipients
# the server refused while it accepted the mail: the host drops smtplib's
# answer; ``mail.mail._postprocess_sent_message`` reads it in the same
# transaction (a commit clears ``cr.cache``; the host commits each mail).
REFUSED_KEY = "equisis_mail_refused"
# Key of ``cr.cache`` where ``mail.mail`` names the mail of the addon it is
# handing to SMTP: its hand-off is committed before the SMTP transaction.
HANDOFF_KEY = "equisis_mail_handoff"
# ``cr.cache`` key of the mail whose whole message went to the server (the
# final dot written): a connection lost from then on may have lost only the
# server's answer.
DATA_KEY = "equisis_mail_data"
END_OF_DATA = b"\r\n.\r\n"


def _handing_over(env, send_message):
    def send_message_handing_over(message, *args, **kwargs):
        refused = env.cr.cache.setdefault(REFUSED_KEY, {})
        mail_id = env.cr.cache.get(HANDOFF_KEY)
        if mail_id:
            env["equisis.mail.handoff"]._equisis_hand(mail_id)
        try:
            answer = send_message(message, *args, **kwargs)
        except smtplib.SMTPRecipientsRefused as error:
            # Every recipient refused: the host words it for developers.
            refused[message["Message-Id"]] = error.recipients
            raise
        if answer:
            refused[message["Message-Id"]] = answer
        return answer

    return send_message_handing_over


def _marking_end_of_data(env, send):
    def send_marking_end_of_data(payload):
        send(payload)
        mail_id = env.cr.cache.get(HANDOFF_KEY)
        # Commands are text; only the message itself ends with the dot.
        if mail_id and isinstance(payload, bytes) and payload.endswith(END_OF_DATA):
            env.cr.cache[DATA_KEY] = mail_id

    return send_marking_end_of_data


class IrMailServer(models.Model):
    """Blind copies that exist only in the SMTP envelope.

    ``mail.mail`` marks a message with a private header; here its addresses
    join RCPT TO, and the header is removed before the message leaves, so no
    recipient can ever see who got a blind copy.
    """

    _inherit = "ir.mail_server"

    def _connect__(self, *args, **kwargs):
        """Say a certificate failure in plain words, in *Test connection* and
        as the failure reason of the mails that could not leave; commit the
        hand-off of a mail of the addon before its SMTP transaction; keep the
        recipients the server refused while accepting a mail."""
        try:
            connection = super()._connect__(*args, **kwargs)
        except ssl.SSLCertVerificationError as error:
            raise UserError(
                self.env._(
                    "The mail server's certificate could not be trusted "
                    "(%(reason)s). Ask your provider for the right server name, "
                    "or have an administrator turn off the certificate check "
                    "for a server with a self-signed certificate.",
                    reason=error.verify_message or error.reason or error,
                )
            ) from error
        if connection is not None:
            connection.send_message = _handing_over(self.env, connection.send_message)
            connection.send = _marking_end_of_data(self.env, connection.send)
        return connection

    @api.model
    def _prepare_smtp_to_list(self, message, smtp_session):
        smtp_to_list = super()._prepare_smtp_to_list(message, smtp_session)
        extra = message[ENVELOPE_BCC_HEADER]
        if extra:
            known = {email_normalize(address, strict=False) for address in smtp_to_list}
            for address in email_split(extra):
                if email_normalize(address, strict=False) not in known:
                    smtp_to_list.append(address)
                    known.add(email_normalize(address, strict=False))
        return smtp_to_list

    @api.model
    def _alter_message__(self, message, smtp_from, smtp_to_list):
        res = super()._alter_message__(message, smtp_from, smtp_to_list)
        del message[ENVELOPE_BCC_HEADER]
        return res
