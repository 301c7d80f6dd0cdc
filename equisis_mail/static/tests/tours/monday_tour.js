/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {openSendWindow} from "@equisis_mail/../tests/tours/send_window_steps";

const WINDOW = ".modal:has(button[name=action_send])";

/**
 * Issue 24: one customer's failing placeholder reds its own line only, in
 * plain words; a document sent already waits for a deliberate tick; red
 * lines come first and every cell reads whole.
 */
registry.category("web_tour.tours").add("equisis_mail_monday_tour", {
    steps: () => [
        ...openSendWindow(["Monday Sent", "Monday Fresh", "Monday Noref"]),
        {
            content: "Only the customer without reference is red, first, in plain words",
            trigger: `${WINDOW} .o_data_row:first-child.text-danger:contains('Monday Noref'):contains('Partner › Reference')`,
            run() {
                const rows = document.querySelectorAll(`${WINDOW} .o_data_row.text-danger`);
                if (rows.length !== 1) {
                    throw new Error(`${rows.length} red lines instead of 1`);
                }
                const text = rows[0].textContent;
                for (const raw of ["inline_template", "AttributeError", "Échec"]) {
                    if (text.includes(raw)) {
                        throw new Error(`Raw error on the line: ${text}`);
                    }
                }
                for (const cell of document.querySelectorAll(`${WINDOW} .o_data_row td`)) {
                    if (cell.scrollWidth > cell.clientWidth + 1) {
                        throw new Error(`Column cut: "${cell.textContent}"`);
                    }
                }
            },
        },
        {
            content: "The window says plainly which document was sent before",
            trigger: `${WINDOW} .o_equisis_already_sent:contains('Sent before'):contains('Send these documents again')`,
        },
        {
            trigger: `${WINDOW} button[name=action_send]`,
            run: "click",
        },
        {
            content: "Only the fresh one left; the one sent before waits",
            trigger: `.modal .alert:contains('1 mail sent.'):contains('1 document sent already was left out')`,
        },
        {
            trigger: `${WINDOW} .o_data_row:contains('Monday Sent')`,
        },
        {
            content: "Tick to send it again, deliberately",
            trigger: `${WINDOW} .o_equisis_already_sent div[name=resend_confirmed] input`,
            run: "click",
        },
        {
            trigger: `${WINDOW} button[name=action_send]`,
            run: "click",
        },
        {
            trigger: `.modal .alert-success:contains('1 mail sent.'), .modal .alert:contains('1 mail sent.'):not(:contains('left out'))`,
        },
        {
            content: "The red line stays, alone",
            trigger: `${WINDOW} .o_list_table:not(:contains('Monday Sent')) .o_data_row.text-danger:contains('Monday Noref')`,
        },
    ],
});
