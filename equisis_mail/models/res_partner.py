# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, models

from ..utils.addresses import split_recipients


class ResPartner(models.Model):
    _inherit = "res.partner"

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
