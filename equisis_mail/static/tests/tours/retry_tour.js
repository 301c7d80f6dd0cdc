/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";

const FAILING = ".o_data_row:contains('Retry Failing')";

/**
 * Issue 24, point 4: an invoice whose latest mail failed is Failed in the
 * list though another user mailed it before; its chatter never says the
 * failed mail left; Retry sends it, and the list then says Sent.
 */
registry.category("web_tour.tours").add("equisis_mail_retry_tour", {
    steps: () => [
        {
            trigger: ".o_data_row:contains('Retry Fine')",
        },
        {
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .o_menu_item:contains('E-mail failed')",
            run: "click",
        },
        {
            trigger: ".o_searchview_facet:contains('E-mail failed')",
        },
        {
            content: "The filter keeps the invoice whose latest mail failed, alone",
            trigger: `.o_list_table:not(:has(.o_data_row:contains('Retry Fine'))) ${FAILING}`,
            run() {
                const rows = document.querySelectorAll(".o_list_table .o_data_row");
                if (rows.length !== 1) {
                    throw new Error(`${rows.length} invoices under "E-mail failed" instead of 1`);
                }
            },
        },
        {
            content: "Show the E-mail status column",
            trigger: ".o_optional_columns_dropdown button",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu input[name=equisis_mail_state]",
            run: "click",
        },
        {
            content: "Its status is Failed, in red",
            trigger: `${FAILING} td[name=equisis_mail_state] .badge.text-bg-danger:contains('Failed')`,
        },
        {
            trigger: `${FAILING} td[name=name]`,
            run: "click",
        },
        {
            content: "The form says the mail could not be sent, with Retry",
            trigger: ".o_form_view .alert-danger:contains('could not be sent') button[name=action_equisis_retry_mail]",
        },
        {
            content: "The chatter never says the failed mail left",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('could not be sent')",
            run() {
                const texts = [
                    ...document.querySelectorAll(".o-mail-Chatter .o-mail-Message"),
                ].map((message) => message.textContent);
                if (!texts[0].includes("could not be sent")) {
                    throw new Error(`The latest message is not the failure: ${texts[0]}`);
                }
                const logged = texts.filter((text) =>
                    text.includes("E-mail to failing@example.com")
                );
                if (logged.length !== 2) {
                    throw new Error(`${logged.length} mails logged instead of 2`);
                }
                for (const text of texts) {
                    if (/\bsent\b/i.test(text) && !/\bnot (be )?sent\b/i.test(text)) {
                        throw new Error(`The chatter says sent: ${text}`);
                    }
                }
            },
        },
        {
            trigger: ".o_form_view .alert-danger button[name=action_equisis_retry_mail]",
            run: "click",
        },
        {
            content: "One mail goes again",
            trigger: ".o_notification:contains('1 e-mail will be sent again.')",
        },
        {
            content: "The failure is gone from the form",
            trigger: ".o_form_view:not(:has(.alert-danger:contains('could not be sent')))",
        },
        {
            trigger: ".o_breadcrumb .o_back_button a",
            run: "click",
        },
        {
            content: "Nothing is left under E-mail failed",
            trigger: ".o_searchview_facet:contains('E-mail failed')",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row))",
        },
        {
            trigger: ".o_searchview_facet:contains('E-mail failed') .o_facet_remove",
            run: "click",
        },
        {
            content: "The invoice is Sent now",
            trigger: `${FAILING} td[name=equisis_mail_state] .badge.text-bg-success:contains('Sent')`,
        },
    ],
});
