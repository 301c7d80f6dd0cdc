/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {browser} from "@web/core/browser/browser";

/**
 * Opens a mailto: URL in the user's mail program. The host's act_url would
 * prefix the URL with "/", so a tiny client action does it instead.
 * Tours replace `mailto.open` to see the URL without leaving the page.
 */
export const mailto = {
    open(url) {
        browser.location.href = url;
    },
};

function openMailto(env, action) {
    const url = action.params && action.params.url;
    if (url && url.startsWith("mailto:")) {
        mailto.open(url);
    }
    return {type: "ir.actions.act_window_close"};
}

registry.category("actions").add("equisis_mail.open_mailto", openMailto);
