/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

/**
 * Open the send window as a user does from a list: tick the rows of these
 * names, then Action > Send by e-mail with letters.
 *
 * @param {string[]} names
 */
export function openSendWindow(names) {
    return [
        ...names.map((name) => ({
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
    ];
}
