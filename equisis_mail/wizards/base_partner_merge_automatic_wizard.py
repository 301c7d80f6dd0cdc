# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from ..models.equisis_mail_document import STATUS_FIELDS


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_values(self, src_partners, dst_partner):
        """The kept contact takes the status of the last mail as Odoo takes
        any other field (its own, else a merged contact's), written here by
        the service (as superuser): the host then writes it unchanged, which
        a user may do."""
        partners = [*src_partners, dst_partner]
        source = next(
            (partner for partner in reversed(partners) if partner.equisis_mail_state),
            None,
        )
        if source and source != dst_partner:
            names = sorted(STATUS_FIELDS)
            values = source.sudo().read(names)[0]
            dst_partner.sudo().write({name: values[name] for name in names})
        src_partners.sudo().write(dict.fromkeys(STATUS_FIELDS, False))
        return super()._update_values(src_partners, dst_partner)

    def _update_reference_fields(self, src_partners, dst_partner):
        """The mails of the merged contacts are the kept one's: a bounce or
        a Retry then finds its contact."""
        self.env["mail.mail"].sudo().search(
            [
                ("equisis_model", "=", "res.partner"),
                ("equisis_res_id", "in", src_partners.ids),
            ]
        ).write({"equisis_res_id": dst_partner.id})
        return super()._update_reference_fields(src_partners, dst_partner)
