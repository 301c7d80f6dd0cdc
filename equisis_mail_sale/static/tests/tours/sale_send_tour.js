/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {openSendWindow} from "@equisis_mail/../tests/tours/send_window_steps";

registry.category("web_tour.tours").add("equisis_mail_sale_tour", {
    steps: () => [
        ...openSendWindow(["Tour Customer A", "Tour Customer B", "Tour Customer C"]),
        {
            content: "One line is red: Tour Customer C has no address",
            trigger:
                ".modal .o_data_row.text-danger:contains('Tour Customer C'):contains('No recipient')",
        },
        {
            content: "Open the red line's detail",
            trigger: ".modal .o_data_row.text-danger td[name=document_name]",
            run: "click",
        },
        {
            trigger: ".modal:not(:has(button[name=action_send])) [name=email_to] input",
            run: "edit fixed@example.com",
        },
        {
            trigger: ".modal:not(:has(button[name=action_send])) .o_form_button_save",
            run: "click",
        },
        {
            content: "Back in the send window, the line is no longer red",
            trigger:
                ".modal:has(button[name=action_send]) .o_list_table:not(:has(.text-danger)):contains('fixed@example.com')",
        },
        {
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "The window says what the mail server did",
            trigger: ".modal .alert-success:contains('3 mails sent.')",
        },
        {
            trigger: ".modal .modal-footer button:contains('Close')",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
