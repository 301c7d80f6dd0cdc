/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {openSendWindow} from "@equisis_mail/../tests/tours/send_window_steps";

const WINDOW = ".modal:has(button[name=action_send])";
const DETAIL = ".modal:not(:has(button[name=action_send])):has(.o_form_view)";

function assertWhole(cell) {
    if (cell.scrollWidth > cell.clientWidth + 1) {
        throw new Error(`Column cut: "${cell.textContent}"`);
    }
}

registry.category("web_tour.tours").add("equisis_mail_send_tour", {
    steps: () => [
        ...openSendWindow(["Tour Client A", "Tour Client B", "Tour Client C"]),
        {
            content: "One line is red: Tour Client C has no address",
            trigger: `${WINDOW} .o_data_row.text-danger:contains('Tour Client C'):contains('No recipient')`,
        },
        {
            content: "The window is as wide as the host's large dialogs",
            trigger: `${WINDOW} .modal-dialog.modal-xl th[data-name=document_name]:contains('Document')`,
        },
        {
            content: "Document numbers and partners show whole",
            trigger: `${WINDOW} .o_data_row:contains('Tour Client A') td[name=document_name]`,
            run() {
                for (const cell of document.querySelectorAll(
                    ".modal .o_data_row td[name=document_name], .modal .o_data_row td[name=partner_id]"
                )) {
                    assertWhole(cell);
                }
            },
        },
        {
            content: "Open a line's detail, change its subject, then discard",
            trigger: `${WINDOW} .o_data_row:contains('Tour Client A') td[name=document_name]`,
            run: "click",
        },
        {
            content: "The subject has a label in the detail",
            trigger: `${DETAIL} .o_form_label:contains('Subject')`,
        },
        {
            trigger: `${DETAIL} [name=subject] input`,
            run: "edit Discarded subject",
        },
        {
            trigger: `${DETAIL} .o_form_button_cancel`,
            run: "click",
        },
        {
            content: "Discard returns to the send window, without the edit",
            trigger: `${WINDOW} .o_data_row:contains('Tour Client A'):not(:contains('Discarded subject'))`,
        },
        {
            content: "Open the red line's detail to fix its address",
            trigger: `${WINDOW} .o_data_row.text-danger td[name=document_name]`,
            run: "click",
        },
        {
            trigger: `${DETAIL} [name=email_to] input`,
            run: "edit fixed@example.com",
        },
        {
            trigger: `${DETAIL} .o_form_button_save`,
            run: "click",
        },
        {
            content: "Save returns to the send window with the edit kept",
            trigger: `${WINDOW} .o_list_table:not(:has(.text-danger)):contains('fixed@example.com')`,
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
            trigger: ".modal .modal-footer button:contains('Close')",
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
            trigger: ".o-mail-Message:contains('E-mail to fixed@example.com')",
        },
    ],
});
