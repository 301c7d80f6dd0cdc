# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, models
from odoo.exceptions import AccessError
from odoo.tools import email_normalize

from ..utils.addresses import split_recipients


class ResPartner(models.Model):
    """Contacts take part in the sending service as documents without a
    report: a direct mail, with a letter of target ``contact`` in the
    contact's language and the annexes chosen in the window."""

    _name = "res.partner"
    _inherit = ["res.partner", "equisis.mail.document"]

    # ------------------------------------------------------------
    # Layer of the sending service
    # ------------------------------------------------------------

    def _equisis_letter_target(self):
        return "contact"

    def _equisis_default_report(self):
        """None: a direct mail carries the window's annexes only."""
        return self.env["ir.actions.report"]

    def _equisis_print_reports(self):
        return self.env["ir.actions.report"]

    def _equisis_partner(self):
        return self

    def _equisis_is_sent(self):
        return False

    @api.model
    def _equisis_sent_once(self):
        return False

    def _equisis_document_problem(self):
        return False

    def _equisis_check_send_access(self):
        """Mailing a contact changes nothing of it but its chatter and the
        status of its last mail, as posting a message does: an internal user
        who may read the contact may mail it (the send window is for
        internal users only)."""
        if not self.env.user._is_internal():
            raise AccessError(
                self.env._("Only internal users may send e-mails to contacts.")
            )
        self.check_access("read")

    def _equisis_recipient_problem(self, addresses):
        """Odoo's blacklist (addresses that asked for no more mail) holds for
        direct mails; a company without an address whose contacts have one
        is told to mail them instead."""
        self.ensure_one()
        if not addresses and self.is_company:
            contacts = self.child_ids.filtered("email")
            if contacts:
                return self.env._(
                    "%(company)s has no e-mail address, but its contacts have "
                    "one: select %(contacts)s instead, or type an address.",
                    company=self.display_name,
                    contacts=", ".join(contacts[:5].mapped("name")),
                )
        normalized = {email_normalize(address) for address in addresses} - {False}
        if not normalized:
            return False
        blacklisted = (
            self.env["mail.blacklist"]
            .sudo()
            .with_context(active_test=True)
            .search([("email", "in", list(normalized))])
        )
        if blacklisted:
            return self.env._(
                "Blacklisted address (it asked for no more e-mails): "
                "%(addresses)s. Nothing is sent to it.",
                addresses=", ".join(sorted(blacklisted.mapped("email"))),
            )
        return False

    def _equisis_mail_files(self, report_by_id):
        """No file of its own: the mail carries the annexes only."""
        return {partner.id: self.env["ir.attachment"] for partner in self}, {}

    def _equisis_known_pdf_size(self):
        return 0

    def _equisis_invoice_recipients(self):
        """The addresses documents of each partner go to.

        The partner's own address(es), then those of its invoice contacts.

        :return: {partner id: [addresses]}
        """
        invoice_contacts = self.search(
            [
                ("parent_id", "in", self.ids),
                ("type", "=", "invoice"),
                ("email", "!=", False),
            ]
        )
        contacts_by_parent = {}
        for contact in invoice_contacts:
            contacts_by_parent.setdefault(contact.parent_id.id, []).append(contact)
        result = {}
        for partner in self:
            addresses, seen = [], set()
            for source in [partner, *contacts_by_parent.get(partner.id, [])]:
                valid, invalid = split_recipients(source.email)
                for address in valid + invalid:
                    if address.lower() not in seen:
                        seen.add(address.lower())
                        addresses.append(address)
            result[partner.id] = addresses
        return result

    def action_equisis_open_mail_to(self):
        """Open the Mail To window on these contacts (the list's Action menu)."""
        wizard = self.env["equisis.mail.to"].create(
            {"partner_ids": [Command.set(self.ids)]}
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Mail To"),
            "res_model": "equisis.mail.to",
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }
