# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bounces: what the recipient's mail server said days after the sender's
server accepted a mail, recorded on the mail and on its document."""

from markupsafe import Markup, escape

from odoo import fields, models
from odoo.exceptions import UserError

from ..utils.addresses import split_recipients


def _addresses(text):
    """The lowered addresses of a mail's recipients field."""
    return [address.lower() for address in split_recipients(text)[0]]


class MailMail(models.Model):
    # Kept apart from mail_mail.py, which delivers: this is what comes back.
    _inherit = "mail.mail"  # pylint: disable=consider-merging-classes-inherited

    equisis_bounced = fields.Char(
        string="Bounced Addresses",
        readonly=True,
        copy=False,
        help="Recipients whose mail server returned this mail as not "
        "delivered. Retry sends it to the document's current addresses "
        "instead.",
    )
    equisis_bounce_temporary = fields.Boolean(
        string="Temporary Bounce",
        readonly=True,
        copy=False,
        help="The recipient's server gave up on a temporary problem (4.x.x, "
        "a full mailbox): the same address may work later.",
    )

    def _equisis_receive_bounce(self, recipients):
        """Record a delivery report on these mails of the addon.

        :param recipients: [utils.bounce.BouncedRecipient]
        """
        for mail in self:
            document = mail._equisis_document()
            if not document:
                continue
            to = _addresses(mail.email_to)
            failed = [
                report
                for report in recipients
                if report.failed and (report.matches(to) or not report.address)
            ]
            delayed = [
                report
                for report in recipients
                if report.action == "delayed" and report.matches(to)
            ]
            known = set((mail.equisis_bounced or "").split(", ")) - {""}
            if failed:
                bounced = {
                    address
                    for report in failed
                    for address in (
                        [report.address, report.original] if report.address else to
                    )
                    if address in to
                }
                if bounced <= known:
                    continue  # The same report again.
                document._equisis_record_bounce(mail, failed, known | bounced)
            elif delayed:
                document._equisis_log_bounce_note(mail, delayed, "delayed")
            elif any(
                report.failed and report.address != (mail.equisis_bcc or "").lower()
                for report in recipients
            ):
                # An address this mail no longer goes to: retried since. (The
                # sender's own blind copy is the sender's business.)
                document._equisis_log_bounce_note(mail, recipients, "earlier")

    def mark_outgoing(self):
        """A mail that bounced goes, when retried, to the document's current
        addresses in place of those that bounced."""
        self.filtered(
            lambda mail: (
                mail.equisis_model
                and mail.equisis_bounced
                and mail.state == "exception"
            )
        )._equisis_readdress()
        return super().mark_outgoing()

    def _equisis_readdress(self):
        """Put the document's current addresses in place of the bounced ones.

        After a hard bounce, the address must have been corrected first:
        sending to an address that does not exist would bounce again.
        """
        unchanged = []
        for mail in self:
            document = mail._equisis_document()
            bounced = set(mail.equisis_bounced.split(", "))
            old = _addresses(mail.email_to)
            current = [
                address.lower()
                for address in (
                    document._equisis_recipients().get(document.id, [])
                    if document
                    else []
                )
            ]
            kept = [address for address in old if address not in bounced]
            new = [address for address in current if address not in old]
            if not new and not mail.equisis_bounce_temporary:
                unchanged.append(mail)
                continue
            recipients = kept + (new or [a for a in old if a in bounced])
            mail.write(
                {
                    "email_to": ", ".join(recipients),
                    "equisis_bounced": False,
                    "equisis_bounce_temporary": False,
                }
            )
            if new and document:
                document._message_log(
                    body=Markup("<p>%s</p>")
                    % self.env._(
                        "Retry: the e-mail goes to %(recipients)s in place of "
                        "%(bounced)s, which did not accept it.",
                        recipients=", ".join(recipients),
                        bounced=", ".join(sorted(bounced)),
                    )
                )
        if unchanged:
            raise UserError(
                self.env._(
                    "These addresses did not accept the e-mail: %(details)s. "
                    "Correct the contact's e-mail address first, then retry.",
                    details="; ".join(
                        f"{mail.equisis_bounced} "
                        f"({mail._equisis_document().display_name})"
                        for mail in unchanged
                    ),
                )
            )


class EquisisMailDocument(models.AbstractModel):
    _inherit = "equisis.mail.document"

    def _equisis_record_bounce(self, mail, reports, bounced):
        """The recipient's server returned this document's mail: its status
        says so when this mail is its latest outcome, its chatter always, and
        the sender is told in the inbox.

        :param reports: [BouncedRecipient] that failed, about this mail
        :param bounced: every address of the mail that bounced so far
        """
        self.ensure_one()
        author = mail.author_id
        env = self.with_context(lang=author.lang or self.env.lang).env
        temporary = all(report.temporary for report in reports)
        no_reason = env._("no reason given")
        lines = "; ".join(
            f"{report.address or mail.email_to}: "
            f"{report.diagnostic or report.status or no_reason}"
            for report in reports
        )
        if mail.state == "sent" and not mail.equisis_reported:
            # Its acceptance is recorded after its commit, with other mails'
            # (or by the next background run): recorded first, so that the
            # bounce is this mail's latest outcome and stays so.
            mail.sudo()._equisis_report()
        latest = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [("equisis_model", "=", self._name), ("equisis_res_id", "=", self.id)],
                order="id desc",
                limit=1,
            )
        )
        current = (
            latest == mail
            and mail.state == "sent"
            and self.sudo().equisis_mail_state in ("sent", "partial")
        )
        if not current:
            self._equisis_log_bounce_note(mail, reports, "earlier")
            return
        everyone = set(_addresses(mail.email_to)) <= bounced
        if temporary:
            failure = env._(
                "Not delivered for now (a temporary problem at the recipient's "
                "mail server): %(lines)s. Retry later.",
                lines=lines,
            )
        else:
            failure = env._(
                "Not delivered, the recipient's mail server returned it: "
                "%(lines)s. Correct the address, then retry.",
                lines=lines,
            )
        mail.write(
            {"equisis_bounced": ", ".join(sorted(bounced))}
            | (
                {
                    "state": "exception",
                    "failure_reason": failure,
                    "equisis_bounce_temporary": temporary,
                }
                if everyone
                else {}
            )
        )
        self._equisis_set_mail_state("failed" if everyone else "partial", failure)
        self._equisis_log_bounce_note(
            mail, reports, "temporary" if temporary else "hard", everyone=everyone
        )
        self._equisis_notify_bounce(author, failure)

    def _equisis_log_bounce_note(self, mail, reports, kind, everyone=True):
        """Say in the chatter what the delivery report said.

        :param kind: "hard", "temporary", "delayed" or "earlier" (a mail
            that is not the document's latest, or an address it no longer
            goes to)
        """
        env = self.with_context(lang=mail.author_id.lang or self.env.lang).env
        addresses = ", ".join(
            sorted({report.address for report in reports if report.address})
        ) or (mail.email_to or "")
        if kind == "hard":
            head = env._(
                "The e-mail to %(addresses)s was not delivered: the recipient's "
                "mail server returned it.",
                addresses=addresses,
            )
        elif kind == "temporary":
            head = env._(
                "The e-mail to %(addresses)s was not delivered for now: the "
                "recipient's mail server gave up on a temporary problem (a "
                "full mailbox, for instance).",
                addresses=addresses,
            )
        elif kind == "delayed":
            head = env._(
                "The delivery of the e-mail to %(addresses)s is delayed; the "
                "mail servers keep trying.",
                addresses=addresses,
            )
        else:
            head = env._(
                "A delivery report says that an earlier e-mail to %(addresses)s "
                "was not delivered. The document's status follows its latest "
                "e-mail.",
                addresses=addresses,
            )
        if kind in ("delayed", "earlier"):
            tail = ""
        elif not everyone:
            tail = env._(
                "The other recipients got it. Send the document again from the "
                "send window to reach this address."
            )
        elif kind == "temporary":
            tail = env._("Use “Retry e-mail” later, or reach the customer another way.")
        else:
            tail = env._(
                "Correct the contact's e-mail address, then use “Retry e-mail”: "
                "the same e-mail goes to the corrected address."
            )
        details = "\n".join(
            f"{report.address}: {report.diagnostic or report.status}"
            for report in reports
            if report.diagnostic or report.status
        )
        body = Markup("<p>%s</p>") % head
        if details:
            body += Markup("<pre>%s</pre>") % details
        if tail:
            body += Markup("<p>%s</p>") % tail
        self.sudo()._message_log(body=body)

    def _equisis_notify_bounce(self, author, failure):
        """Tell the sender in the inbox, with a link to the document."""
        if not author:
            return
        env = self.with_context(lang=author.lang).env
        author.sudo().message_notify(
            partner_ids=author.ids,
            subject=env._(
                "E-mail not delivered: %(document)s", document=self.display_name
            ),
            body=Markup('<p><a href="/odoo/%s/%s">%s</a>: %s</p>')
            % (self._name, self.id, self.display_name, escape(failure)),
            force_send=False,
        )
