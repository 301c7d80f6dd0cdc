/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {openSendWindow} from "@equisis_mail/../tests/tours/send_window_steps";

const WINDOW = ".modal:has(button[name=action_send])";
const NAMES = ["Summary A", "Summary B", "Summary Refused"];

/**
 * Issue 24, point 6: more invoices than the threshold go to the background;
 * the window says so and sends nothing itself.
 */
registry.category("web_tour.tours").add("equisis_mail_summary_send_tour", {
    steps: () => [
        ...openSendWindow(NAMES),
        {
            content: "Three lines, none red",
            trigger: `${WINDOW} .o_list_table:not(:has(.text-danger)) .o_data_row:contains('Summary Refused')`,
            run() {
                const rows = document.querySelectorAll(`${WINDOW} .o_data_row`);
                if (rows.length !== 3) {
                    throw new Error(`${rows.length} lines instead of 3`);
                }
            },
        },
        {
            trigger: `${WINDOW} button[name=action_send]`,
            run: "click",
        },
        {
            content: "The window says the three go in the background, none sent yet",
            trigger: ".modal .alert-info:contains('No mail was sent.'):contains('3 mails are on their way')",
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

/**
 * The summary in the chat with OdooBot: one for the batch, with counts that
 * add up, and a link that opens the invoice that was not sent.
 *
 * @param {RegExp} summary matches the summary; its groups are the number
 *      of documents, those sent and those not sent
 */
function summarySteps(summary) {
    let failedName = "";
    return [
        {
            trigger: ".o-mail-DiscussSidebarChannel:contains('OdooBot')",
            run: "click",
        },
        {
            content: "One summary, whose counts add up",
            trigger: ".o-mail-Thread .o-mail-Message-body a[href^='/odoo/account.move/']",
            run() {
                const found = [
                    ...document.querySelectorAll(".o-mail-Thread .o-mail-Message-body"),
                ].filter((body) => summary.test(body.textContent));
                if (found.length !== 1) {
                    throw new Error(`${found.length} summaries instead of 1`);
                }
                const [count, sent, failed] = found[0].textContent
                    .match(summary)
                    .slice(1)
                    .map(Number);
                if (count !== 3 || sent !== 2 || failed !== 1 || count !== sent + failed) {
                    throw new Error(`Wrong counts: ${found[0].textContent}`);
                }
                const links = found[0].querySelectorAll("a[href^='/odoo/account.move/']");
                if (links.length !== 1) {
                    throw new Error(`${links.length} documents linked instead of 1`);
                }
                if (!links[0].closest("li").textContent.includes("550")) {
                    throw new Error(`No reason: ${links[0].closest("li").textContent}`);
                }
                failedName = links[0].textContent.trim();
            },
        },
        {
            trigger: ".o-mail-Thread .o-mail-Message-body a[href^='/odoo/account.move/']",
            run: "click",
        },
        {
            content: "The link opens the invoice that was not sent",
            trigger: ".o_form_view .alert-danger button[name=action_equisis_retry_mail]",
            run() {
                const title = document.querySelector(".o_last_breadcrumb_item").textContent;
                if (!failedName || !title.includes(failedName)) {
                    throw new Error(`Opened "${title}" instead of "${failedName}"`);
                }
            },
        },
    ];
}

registry.category("web_tour.tours").add("equisis_mail_summary_tour", {
    steps: () => summarySteps(/of (\d+) documents are done: (\d+) sent, (\d+) not sent/),
});

registry.category("web_tour.tours").add("equisis_mail_summary_fr_tour", {
    steps: () =>
        summarySteps(/de (\d+) documents sont traités\.\s*Envoyés\s*:\s*(\d+)\.\s*Non envoyés\s*:\s*(\d+)/),
});
