/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {browser} from "@web/core/browser/browser";
import {registry} from "@web/core/registry";
import {mailto} from "@equisis_mail/js/mailto_action";

const expected =
    "mailto:admin@example.com?bcc=alpha@example.com,beta@example.com,gamma@example.com";

/**
 * Steps that list the contacts whose name starts with `prefix`, then select
 * them: `names` one by one, or all of them with the header's checkbox.
 */
function selectContacts(prefix, names) {
    const select = names
        ? names.map((name) => ({
              trigger: `.o_data_row:contains('${name}') .o_list_record_selector input`,
              run: "click",
          }))
        : [
              {
                  trigger: "thead .o_list_record_selector input",
                  run: "click",
              },
          ];
    return [
        {
            trigger: ".o_list_view .o_searchview_input",
            run: `edit ${prefix}`,
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            trigger: `.o_searchview_facet:contains('${prefix}')`,
        },
        {
            // Only the contacts of the tour are listed.
            trigger: `.o_list_table:not(:has(.o_data_row:not(:contains('${prefix} '))))`,
        },
        ...select,
        {
            trigger: ".o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            trigger: '.o-dropdown--menu span:contains("Mail To")',
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=address_list]",
        },
    ];
}

registry.category("web_tour.tours").add("equisis_mail_to_tour", {
    steps: () => [
        ...selectContacts("Tour", ["Tour Alpha", "Tour Beta", "Tour Gamma"]),
        {
            trigger: ".modal div[name=use_bcc] input:checked",
        },
        {
            // The link fits: no copy button, no warning.
            trigger: ".modal:not(:has(.o_clipboard_button, .alert-warning))",
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

// What the widgets warned about and what the copy button wrote, seen by the
// steps of the tour below.
const seen = {missingWidgets: [], copied: []};

registry.category("web_tour.tours").add("equisis_mail_to_many_tour", {
    steps: () => [
        {
            trigger: ".o_list_view",
            run() {
                // The web client only warns in the console about an unknown
                // widget, and shows the field as if it had none.
                const warn = console.warn;
                console.warn = (...args) => {
                    if (String(args[0]).includes("Missing widget")) {
                        seen.missingWidgets.push(String(args[0]));
                    }
                    return warn.apply(console, args);
                };
                // Headless Chromium gives the page no clipboard: keep what is
                // written instead, as Odoo's own tours do.
                browser.navigator.clipboard.writeText = async (text) => {
                    seen.copied.push(text);
                };
            },
        },
        ...selectContacts("Mailto Many"),
        {
            trigger: ".modal .alert-warning:contains('Copy the addresses')",
        },
        {
            trigger: ".modal .o_field_widget[name=address_list]",
            run() {
                if (seen.missingWidgets.length) {
                    throw new Error(seen.missingWidgets.join("\n"));
                }
                const modal = document.querySelector(".modal");
                if (modal.textContent.includes("Missing widget")) {
                    throw new Error("The window says 'Missing widget'.");
                }
                if (modal.querySelector("button[name=action_open]")) {
                    throw new Error("The link is too long, yet offered.");
                }
                const lists = [
                    ...modal.querySelectorAll(".o_field_widget[name=address_list]"),
                ].filter((field) => field.textContent.includes("@example.com"));
                if (lists.length !== 1) {
                    throw new Error(`The address list shows ${lists.length} times.`);
                }
                const addresses = lists[0].textContent.trim().split("; ");
                if (addresses.length !== 60) {
                    throw new Error(`${addresses.length} addresses listed, not 60.`);
                }
                const buttons = modal.querySelectorAll(
                    ".o_field_CopyClipboardButton[name=address_list] button.o_clipboard_button"
                );
                if (buttons.length !== 1) {
                    throw new Error(`${buttons.length} copy buttons instead of 1.`);
                }
                // The copy button comes first, above the long list; the BCC
                // tick, which does nothing here, is not shown.
                if (
                    !(
                        buttons[0].compareDocumentPosition(lists[0]) &
                        Node.DOCUMENT_POSITION_FOLLOWING
                    )
                ) {
                    throw new Error("The copy button sits under the list.");
                }
                if (modal.querySelector("div[name=use_bcc]")) {
                    throw new Error("The BCC tick shows, though it does nothing.");
                }
                document.body.dataset.equisisAddresses = lists[0].textContent.trim();
            },
        },
        {
            trigger: ".modal .o_clipboard_button:contains('Copy the addresses')",
            run: "click",
        },
        {
            // The host's button says so once the clipboard took the text.
            trigger: ".o-tooltip:contains('Copied')",
            run() {
                const addresses = document.body.dataset.equisisAddresses;
                if (seen.copied.length !== 1 || seen.copied[0] !== addresses) {
                    throw new Error(
                        `Copied ${JSON.stringify(seen.copied)} instead of ${addresses}`
                    );
                }
            },
        },
    ],
});
