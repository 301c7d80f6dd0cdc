# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.exceptions import UserError

from ..models.equisis_mail_document import STATUS_FIELDS


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _equisis_merge_status(self, src_partners, dst_partner):
        """The kept contact takes the status of the contact mailed last (as
        Odoo takes any other field when none was: the kept one's own, else a
        merged one's), written here by the service (as superuser): Odoo's
        merge then writes it unchanged, which a user may do. Contacts whose
        mail waits in the queue are merged once it is sent."""
        partners = src_partners | dst_partner
        if (
            self.env["equisis.mail.queue"]
            .sudo()
            .search_count(
                [("res_model", "=", "res.partner"), ("res_id", "in", partners.ids)],
                limit=1,
            )
        ):
            raise UserError(
                self.env._(
                    "An e-mail to one of these contacts is waiting to be sent: "
                    "merge them once it is sent."
                )
            )
        last_mail = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("equisis_model", "=", "res.partner"),
                    ("equisis_res_id", "in", partners.ids),
                ],
                order="id desc",
                limit=1,
            )
        )
        if last_mail:
            source = partners.browse(last_mail.equisis_res_id)
        else:
            source = next(
                (
                    partner
                    for partner in reversed([*src_partners, dst_partner])
                    if partner.equisis_mail_state
                ),
                None,
            )
        if source and source != dst_partner:
            names = sorted(STATUS_FIELDS)
            values = source.sudo().read(names)[0]
            dst_partner.sudo().write({name: values[name] for name in names})
        src_partners.sudo().write(dict.fromkeys(STATUS_FIELDS, False))

    def _update_reference_fields(self, src_partners, dst_partner):
        """The mails of the merged contacts are the kept one's: a bounce or
        a Retry then finds its contact. (Odoo's merge calls this before it
        copies the fields' values.)"""
        self._equisis_merge_status(src_partners, dst_partner)
        self.env["mail.mail"].sudo().search(
            [
                ("equisis_model", "=", "res.partner"),
                ("equisis_res_id", "in", src_partners.ids),
            ]
        ).write({"equisis_res_id": dst_partner.id})
        return super()._update_reference_fields(src_partners, dst_partner)
