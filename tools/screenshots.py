"""Retake the README's screenshots from the demo database.

Usage: start the demo (``make run``), then ``make screenshots``. Drives a
headless Chromium (Debian's ``chromium``) through its DevTools protocol and
writes PNG files to ``docs/screenshots/``.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import xmlrpc.client
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

try:
    import websocket
except ImportError:  # run again with Odoo's Python, which has websocket-client
    odoo_bin, _why = harness.find_odoo()
    if odoo_bin and sys.executable != harness.odoo_python(odoo_bin):
        os.execv(
            harness.odoo_python(odoo_bin), [harness.odoo_python(odoo_bin), *sys.argv]
        )
    raise

URL = os.environ.get("EQUISIS_DEMO_URL", "http://localhost:8069")
DB = "equisis_demo"
OUT = harness.ROOT / "docs" / "screenshots"


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="equisis-chrome-")
        port = harness.free_port()
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                # The narrowest screen the send window is made for.
                "--window-size=1366,900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _attempt in range(50):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/json"
                ) as response:
                    pages = [p for p in json.load(response) if p["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"])
        self.counter = 0

    def call(self, method, **params):
        self.counter += 1
        self.ws.send(
            json.dumps({"id": self.counter, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.counter:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                time.sleep(0.8)  # let the page settle (fonts, animations)
                return
            time.sleep(0.3)
        raise TimeoutError(f"{selector} did not appear")

    def do_action(self, action):
        """Run an action the server returned, as the web client would."""
        self.evaluate(
            "odoo.__WOWL_DEBUG__.root.env.services.action.doAction("
            + json.dumps(action)
            + ")"
        )

    def goto(self, url, selector):
        self.call("Page.navigate", url=url)
        self.wait_for(selector)

    def shoot(self, name):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = OUT / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        harness.say(f"wrote {path.relative_to(harness.ROOT)}")

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=20)
        shutil.rmtree(self.profile, ignore_errors=True)


def session_id():
    request = urllib.request.Request(
        f"{URL}/web/session/authenticate",
        data=json.dumps(
            {
                "jsonrpc": "2.0",
                "params": {"db": DB, "login": "admin", "password": "admin"},
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        for header in response.headers.get_all("Set-Cookie"):
            if header.startswith("session_id="):
                return header.split(";")[0].split("=", 1)[1]
    raise RuntimeError("could not log in to the demo as admin")


def main():
    if harness.wait_http(f"{URL}/web/login", timeout=5) != 200:
        sys.exit("Start the demo first: make run")
    OUT.mkdir(parents=True, exist_ok=True)
    rpc = xmlrpc.client.ServerProxy(f"{URL}/xmlrpc/2/object", allow_none=True)
    uid = xmlrpc.client.ServerProxy(f"{URL}/xmlrpc/2/common").authenticate(
        DB, "admin", "admin", {}
    )

    def call(model, method, *args, **kwargs):
        return rpc.execute_kw(DB, uid, "admin", model, method, list(args), kwargs)

    browser = Browser()
    try:
        browser.call("Page.enable")
        browser.call(
            "Network.setCookie",
            name="session_id",
            value=session_id(),
            url=URL,
        )
        # 1. The user's tab: own SMTP server, signature, BCC confirmation.
        browser.goto(f"{URL}/odoo/action-base.action_res_users/{uid}", ".o_form_view")
        browser.evaluate(
            "[...document.querySelectorAll('.o_notebook .nav-link')]"
            ".find(a => a.textContent.includes('E-mail sending')).click()"
        )
        browser.wait_for("div[name=smtp_host]")
        browser.shoot("user-email-sending")

        # 2. Letters.
        browser.goto(
            f"{URL}/odoo/action-equisis_mail.equisis_letter_action", ".o_list_view"
        )
        # The list is grouped by type: open the accompanying texts.
        browser.evaluate("document.querySelector('.o_group_header')?.click()")
        browser.wait_for(".o_list_view .o_data_row")
        browser.shoot("letters")
        letter = call("equisis.letter", "search", [("code", "=", "INV-FR")], limit=1)[0]
        browser.goto(
            f"{URL}/odoo/action-equisis_mail.equisis_letter_action/{letter}",
            ".o_form_view .o_notebook",
        )
        browser.shoot("letter-form")

        # 3. The send window, with a red line (a customer without address)
        # and an invoice sent before (sent here once, as a user would).
        posted = [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("company_id", "=", 1),
        ]
        moves = call(
            "account.move",
            "search",
            [*posted, ("partner_id.email", "=", False)],
            limit=1,
        ) + call(
            "account.move",
            "search",
            [*posted, ("partner_id.email", "!=", False)],
            limit=4,
            order="id",
        )
        sent_before = moves[-1:]
        if not call("account.move", "read", sent_before, ["is_move_sent"])[0][
            "is_move_sent"
        ]:
            first = call("account.move", "action_equisis_open_send_wizard", sent_before)
            call("equisis.mail.send", "action_send", [first["res_id"]])
        action = call("account.move", "action_equisis_open_send_wizard", moves)
        browser.goto(
            f"{URL}/odoo/action-account.action_move_out_invoice_type", ".o_list_view"
        )
        browser.do_action(action)
        browser.wait_for(".modal .o_data_row.text-danger")
        browser.shoot("send-window")

        # 4. Quotations through the same window.
        orders = call(
            "sale.order",
            "search",
            [("state", "in", ["draft", "sent"]), ("company_id", "=", 1)],
            limit=4,
        )
        action = call("sale.order", "action_equisis_open_send_wizard", orders)
        browser.goto(
            f"{URL}/odoo/action-sale.action_quotations_with_onboarding", ".o_list_view"
        )
        browser.do_action(action)
        browser.wait_for(".modal .o_data_row")
        browser.shoot("send-window-quotations")

        # 5. Mail To from the contacts list.
        partners = call(
            "res.partner",
            "search",
            [("is_company", "=", True)],
            limit=5,
            order="id desc",
        )
        action = call("res.partner", "action_equisis_open_mail_to", partners)
        browser.goto(f"{URL}/odoo/contacts?view_type=list", ".o_list_view")
        browser.do_action(action)
        browser.wait_for(".modal div[name=use_bcc]")
        browser.shoot("mail-to")

        # 6. Direct mails to contacts: three languages, one without address,
        # one blacklisted.
        contacts = call(
            "res.partner",
            "search",
            [
                (
                    "name",
                    "in",
                    [
                        "Smith Trading Ltd",
                        "Boulangerie Dupont",
                        "Janssens Bouw NV",
                        "Peeters & Zonen",
                        "Drukkerij Vermeulen",
                    ],
                )
            ],
        )
        action = call("res.partner", "action_equisis_open_send_wizard", contacts)
        browser.goto(f"{URL}/odoo/contacts?view_type=list", ".o_list_view")
        browser.do_action(action)
        browser.wait_for(".modal .o_data_row.text-danger")
        browser.shoot("send-window-contacts")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
