/** @odoo-module **/
// Copyright 2026 equisis_mail contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import {registry} from "@web/core/registry";
import {browser} from "@web/core/browser/browser";
import {onMounted} from "@odoo/owl";
import {patch} from "@web/core/utils/patch";
import {SearchableSetting} from "@web/webclient/settings_form_view/settings/searchable_setting";

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

/**
 * A link to one setting (/odoo/settings#equisis_personal_limit, from a
 * user's "Change the limit") opens its app and highlights it; the host
 * leaves the page at its top, the setting below the fold. Scroll to it.
 * (Here, as this file is the addon's one backend asset.)
 */
patch(SearchableSetting.prototype, {
    setup() {
        super.setup(...arguments);
        onMounted(() => {
            if (this.props.id && browser.location.hash.substring(1) === this.props.id) {
                this.settingRef.el?.scrollIntoView({block: "center"});
            }
        });
    },
});
