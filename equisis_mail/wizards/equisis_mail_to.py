# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from ..utils.addresses import split_recipients
from ..utils.mailto import MAX_MAILTO_LENGTH, build_mailto


class EquisisMailTo(models.TransientModel):
    """Write to several contacts with the user's own mail program."""

    _name = "equisis.mail.to"
    _description = "Mail To"

    partner_ids = fields.Many2many(comodel_name="res.partner", string="Contacts")
    use_bcc = fields.Boolean(
        string="Recipients in BCC",
        default=True,
        help="Put recipients in BCC so that they don't see each other.",
    )
    address_list = fields.Text(compute="_compute_mailto", string="Addresses")
    skipped = fields.Text(compute="_compute_mailto", string="Skipped Contacts")
    mailto_url = fields.Char(compute="_compute_mailto", string="Mailto URL")
    url_too_long = fields.Boolean(compute="_compute_mailto")
    address_count = fields.Integer(compute="_compute_mailto")

    @api.depends("partner_ids", "use_bcc")
    def _compute_mailto(self):
        own_address = self.env.user.email_normalized
        for wizard in self:
            addresses, skipped, seen = [], [], set()
            for partner in wizard.partner_ids:
                valid, invalid = split_recipients(partner.email)
                if not partner.email:
                    skipped.append(
                        self.env._(
                            "%(name)s: no e-mail address", name=partner.display_name
                        )
                    )
                elif invalid or not valid:
                    skipped.append(
                        self.env._(
                            "%(name)s: malformed address %(address)s",
                            name=partner.display_name,
                            address=partner.email,
                        )
                    )
                for address in valid if not invalid else []:
                    if address.lower() not in seen:
                        seen.add(address.lower())
                        addresses.append(address)
            if wizard.use_bcc:
                url = build_mailto(
                    to=[own_address] if own_address else [], bcc=addresses
                )
            else:
                url = build_mailto(to=addresses)
            wizard.address_list = "; ".join(addresses)
            wizard.address_count = len(addresses)
            wizard.skipped = "\n".join(skipped) or False
            wizard.mailto_url = url if addresses else False
            wizard.url_too_long = len(url) > MAX_MAILTO_LENGTH

    def action_open(self):
        """Open the mailto URL in the user's mail client."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "equisis_mail.open_mailto",
            "params": {"url": self.mailto_url},
            "target": "new",
        }
