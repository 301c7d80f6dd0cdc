/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {inputFiles} from "@web/../tests/utils";
import {registry} from "@web/core/registry";

const WINDOW = ".modal:has(button[name=action_send])";

registry.category("web_tour.tours").add("equisis_mail_contacts_tour", {
    steps: () => [
        {
            trigger: ".o_list_view .o_searchview_input",
            run: "edit Tour Contact",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            // Only the contacts of the tour are listed.
            trigger: ".o_list_table:not(:has(.o_data_row:not(:contains('Tour Contact '))))",
        },
        {
            trigger: "thead .o_list_record_selector input",
            run: "click",
        },
        {
            trigger: ".o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            trigger: '.o-dropdown--menu span:contains("Send by e-mail with letters")',
            run: "click",
        },
        {
            content: "One line per contact, the blacklisted one red, saying why",
            trigger: `${WINDOW} .o_data_row.text-danger:contains('Tour Contact Gone'):contains('Blacklisted')`,
        },
        {
            content: "Each contact has the letter in its language",
            trigger: `${WINDOW} .o_data_row:contains('Tour Contact NL'):contains('Informatie voor Tour Contact NL')`,
        },
        {
            content: "No print form for contacts",
            trigger: `${WINDOW}:not(:has(div[name=print_form_id]))`,
        },
        {
            content: "One upload for every mail",
            trigger: `${WINDOW} div[name=annex_ids]`,
            async run() {
                const file = new File(["Closed in August"], "agenda.txt", {
                    type: "text/plain",
                });
                await inputFiles(`${WINDOW} div[name=annex_ids] input.o_input_file`, [
                    file,
                ]);
            },
        },
        {
            trigger: `${WINDOW} div[name=annex_ids]:contains('agenda.txt')`,
        },
        {
            trigger: `${WINDOW} button[name=action_send]`,
            run: "click",
        },
        {
            content: "The window tells what the mail server did",
            trigger: ".modal .alert-success:contains('3 mails sent.')",
        },
        {
            content: "The blacklisted contact stays, in red",
            trigger: ".modal .o_data_row.text-danger:contains('Tour Contact Gone')",
        },
        {
            trigger: ".modal .modal-footer button:contains('Cancel')",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_data_row:contains('Tour Contact FR') td[name=display_name]",
            run: "click",
        },
        {
            content: "The contact's chatter logs the mail with its file",
            trigger: ".o-mail-Message:contains('E-mail to fr@example.com'):contains('agenda.txt')",
        },
    ],
});
