/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("equisis_mail_send_tour", {
    steps: () => [
        ...["Tour Client A", "Tour Client B", "Tour Client C"].map((name) => ({
            trigger: `.o_data_row:contains('${name}') .o_list_record_selector input`,
            run: "click",
        })),
        {
            trigger: ".o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            trigger: '.o-dropdown--menu span:contains("Send by e-mail with letters")',
            run: "click",
        },
        {
            content: "One line is red: Tour Client C has no address",
            trigger: ".modal .o_data_row.text-danger:contains('Tour Client C'):contains('No recipient')",
        },
        {
            trigger: ".modal .o_data_row.text-danger td[name=email_to]",
            run: "click",
        },
        {
            trigger: ".modal .o_data_row td[name=email_to] input",
            run: "edit fixed@example.com",
        },
        {
            trigger: ".modal .o_form_view .alert-warning",
            run: "click",
        },
        {
            content: "The line is no longer red",
            trigger: ".modal .o_list_table:not(:has(.text-danger))",
        },
        {
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_data_row:contains('Tour Client C') td[name=name]",
            run: "click",
        },
        {
            content: "The chatter tells the mail left",
            trigger: ".o-mail-Message:contains('E-mail sent to fixed@example.com')",
        },
    ],
});
