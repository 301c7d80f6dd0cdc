# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.exceptions import UserError

from ..models.equisis_mail_document import STATUS_FIELDS


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_values(self, src_partners, dst_partner):
        """The kept contact takes the merged contacts' mails and the status
        of the contact mailed last (as Odoo takes any other field when none
        was: the kept one's own, else a merged one's). The status is the
        service's, which no user writes: it is cleared before Odoo copies
        the fields' values and written after, as superuser. Contacts whose
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
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("equisis_model", "=", "res.partner"),
                    ("equisis_res_id", "in", partners.ids),
                ],
                order="id desc",
            )
        )
        if mails:
            source = partners.browse(mails[0].equisis_res_id)
        else:
            source = next(
                (
                    partner
                    for partner in reversed([*src_partners, dst_partner])
                    if partner.equisis_mail_state
                ),
                partners.browse(),
            )
        names = sorted(STATUS_FIELDS)
        status = source.sudo().read(names)[0] if source else {}
        partners.sudo().write(dict.fromkeys(names, False))
        mails.write({"equisis_res_id": dst_partner.id})
        result = super()._update_values(src_partners, dst_partner)
        if status:
            dst_partner.sudo().write({name: status[name] for name in names})
        return result
