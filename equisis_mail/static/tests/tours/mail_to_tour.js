/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {mailto} from "@equisis_mail/js/mailto_action";

const expected =
    "mailto:admin@example.com?bcc=alpha@example.com,beta@example.com,gamma@example.com";

registry.category("web_tour.tours").add("equisis_mail_to_tour", {
    steps: () => [
        {
            trigger: ".o_list_view .o_searchview_input",
            run: "edit Tour",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            trigger: ".o_searchview_facet:contains('Tour')",
        },
        {
            // Only the three contacts of the tour are listed.
            trigger: ".o_list_table:not(:has(.o_data_row:not(:contains('Tour '))))",
        },
        ...["Tour Alpha", "Tour Beta", "Tour Gamma"].map((name) => ({
            trigger: `.o_data_row:contains('${name}') .o_list_record_selector input`,
            run: "click",
        })),
        {
            trigger: ".o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            trigger: '.o-dropdown--menu span:contains("Mail To")',
            run: "click",
        },
        {
            trigger: ".modal label:contains('BCC')",
        },
        {
            trigger: ".modal div[name=use_bcc] input:checked",
        },
        {
            trigger: ".modal button[name=action_open]",
            run() {
                // Keep the page: record where the mail client would be sent.
                mailto.open = (url) => {
                    document.body.dataset.equisisMailto = url;
                };
                this.anchor.click();
            },
        },
        {
            trigger: "body[data-equisis-mailto]",
            run() {
                const url = document.body.dataset.equisisMailto;
                if (url !== expected) {
                    throw new Error(`mailto URL ${url} instead of ${expected}`);
                }
            },
        },
    ],
});
