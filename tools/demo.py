"""The run command: a demo database with equisis_mail at http://localhost:8069.

Usage: ``python3 tools/demo.py`` (what ``make run`` runs). Ctrl-C stops
everything it started; a second run reuses the database (updating the module
to the code at hand).

- PostgreSQL: a cluster of our own in ``.demo/pg`` (git-ignored), port 54329.
- Mail: a catcher on 127.0.0.1:2525 stores every mail in ``.demo/mails``.
- Odoo: database ``equisis_demo``, login admin / admin.
- wkhtmltopdf: a build with patched Qt, as in production, fetched once into
  ``.cache/wkhtmltopdf`` (git-ignored) and first on Odoo's PATH.
"""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

ROOT = harness.ROOT
DEMO = ROOT / ".demo"
DB = "equisis_demo"
PG_PORT = int(os.environ.get("EQUISIS_DEMO_PG_PORT", "54329"))
SMTP_PORT = int(os.environ.get("EQUISIS_DEMO_SMTP_PORT", "2525"))
HTTP_PORT = int(os.environ.get("EQUISIS_DEMO_HTTP_PORT", "8069"))

SETUP_SCRIPT = """
env["ir.config_parameter"].set_param("web.base.url", "http://localhost:{http}")
env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
server = env["ir.mail_server"].search([("owner_user_id", "=", False)], limit=1)
values = {{"name": "Demo mail catcher", "smtp_host": "127.0.0.1",
          "smtp_port": {smtp}, "smtp_encryption": "none"}}
server.write(values) if server else env["ir.mail_server"].create(values)
env["res.lang"]._activate_lang("en_US")
admin = env.ref("base.user_admin")
admin.write({{"email": "admin@equisis-demo.example", "lang": "en_US"}})
admin.write({{"smtp_host": "127.0.0.1", "smtp_port": {smtp},
             "smtp_encryption": "none", "smtp_user": False, "smtp_pass": False}})
env.company.email = "invoices@equisis-demo.example"
# Only the addon's sends reach the catcher: the notices Odoo queued while the
# demo data was made (security notices, assignments) are not part of it.
unrelated = [("state", "=", "outgoing"), ("equisis_model", "=", False)]
env["mail.mail"].search(unrelated).unlink()
env.cr.commit()
"""


# The addon, and its glue addons with the Sales and Purchase apps.
ADDONS = "equisis_mail,equisis_mail_sale,equisis_mail_purchase"
LANGUAGES = "fr_FR,nl_NL,fr_BE,nl_BE"


def odoo_command(odoo_bin, cluster, *args, subcommand=None):
    return cluster.odoo_command(
        odoo_bin, DB, DEMO / "data", *args, subcommand=subcommand
    )


def database_ready(cluster):
    result = cluster.psql(
        "SELECT state FROM ir_module_module WHERE name = 'equisis_mail'", DB
    )
    return result.stdout.strip() == "installed"


def main():
    odoo_bin, why = harness.find_odoo()
    if not odoo_bin:
        sys.exit(f"Cannot run the demo: {why}. Install Odoo 19 first (see README).")
    harness.ensure_debian_packages(["initdb", "wkhtmltopdf"])
    python = harness.odoo_python(odoo_bin)
    harness.ensure_odoo_python_packages(python)
    env, _wkhtmltopdf, _version = harness.wkhtmltopdf_env(python)
    DEMO.mkdir(exist_ok=True)
    cluster = harness.PgCluster(datadir=DEMO / "pg", port=PG_PORT)
    catcher = None
    try:
        cluster.start()
        harness.say(f"PostgreSQL of the demo in {cluster.base}, port {cluster.port}")
        catcher = subprocess.Popen(
            [
                python,
                str(ROOT / "tools" / "mailcatcher.py"),
                str(DEMO / "mails"),
                str(SMTP_PORT),
            ]
        )
        if not database_ready(cluster):
            harness.say("first run: creating the demo database (a few minutes)")
            subprocess.run(
                odoo_command(
                    odoo_bin,
                    cluster,
                    "--init",
                    ADDONS,
                    "--with-demo",
                    "--stop-after-init",
                    # Odoo's own translations for the demo's languages, so
                    # that menus and PDFs follow a French or Dutch partner.
                    "--load-language",
                    LANGUAGES,
                    "--log-level",
                    "warn",
                ),
                check=True,
                env=env,
            )
            if not database_ready(cluster):
                sys.exit("The demo database could not be created: see the log above.")
        else:
            harness.say("updating equisis_mail in the demo database")
            subprocess.run(
                odoo_command(
                    odoo_bin,
                    cluster,
                    # The glue addons of a database made before they existed.
                    "--init",
                    ADDONS,
                    "--update",
                    ADDONS,
                    "--load-language",
                    LANGUAGES,
                    "--stop-after-init",
                    "--log-level",
                    "warn",
                ),
                check=True,
                env=env,
            )
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
            script.write(SETUP_SCRIPT.format(smtp=SMTP_PORT, http=HTTP_PORT))
        with open(script.name) as stdin:
            subprocess.run(
                odoo_command(
                    odoo_bin,
                    cluster,
                    "--log-level",
                    "warn",
                    "--no-http",
                    subcommand="shell",
                ),
                stdin=stdin,
                check=True,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        os.unlink(script.name)
        harness.say(
            f"Odoo at http://localhost:{HTTP_PORT} (admin / admin); "
            f"mails land in {DEMO / 'mails'}. Ctrl-C stops everything."
        )
        server = subprocess.Popen(
            odoo_command(
                odoo_bin,
                cluster,
                "--http-port",
                str(HTTP_PORT),
                "--http-interface",
                "127.0.0.1",
                "--log-level",
                "info",
            ),
            env=env,
        )
        try:
            server.wait()
        except KeyboardInterrupt:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    finally:
        if catcher:
            catcher.terminate()
            catcher.wait(timeout=10)
        cluster.stop()
        harness.say("demo stopped")


if __name__ == "__main__":
    main()
