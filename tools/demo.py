"""The run command: a demo database with equisis_mail at http://localhost:8069.

Usage: ``python3 tools/demo.py`` (what ``make run`` runs). Ctrl-C stops
everything it started; a second run reuses the database (updating the module
to the code at hand).

- PostgreSQL: a cluster of our own in ``.demo/pg`` (git-ignored), port 54329.
- Mail: a catcher on 127.0.0.1:2525 stores every mail in ``.demo/mails``.
- Odoo: database ``equisis_demo``, login admin / admin, in English: a
  Belgian company in euros with Odoo's Belgian localisation (l10n_be, its
  chart of accounts, structured communication on invoices), Sales and
  Purchase, customers writing English, French (Belgium) and Dutch (Belgium),
  invoices, quotations and requests for quotation (``tools/demo_data.py``).
  Nothing is mailed that the user did not send.
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
DEMO = Path(os.environ.get("EQUISIS_DEMO_DIR") or ROOT / ".demo")
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
admin = env.ref("base.user_admin")
admin.write({{"smtp_host": "127.0.0.1", "smtp_port": {smtp},
             "smtp_encryption": "none", "smtp_user": False, "smtp_pass": False}})
# The demo runs offline: Odoo's scheduled calls to its online services
# (VIES checks, Peppol) would only fill the log with connection errors.
for xmlid in ("base_vat.vies_iap_check_update",
              "account_peppol.ir_cron_peppol_get_new_documents",
              "account_peppol.ir_cron_peppol_get_message_status",
              "account_peppol.ir_cron_peppol_get_participant_status",
              "account_peppol.ir_cron_peppol_webhook_keepalive"):
    cron = env.ref(xmlid, raise_if_not_found=False)
    if cron:
        cron.active = False
# Only the addon's sends reach the catcher: the notices Odoo queued while the
# demo data was made (assignments...) are not part of it.
unrelated = [("state", "=", "outgoing"), ("equisis_model", "=", False)]
env["mail.mail"].search(unrelated).unlink()
env.cr.commit()
"""

# The company, before the accounting apps come: Odoo then loads the Belgian
# chart of accounts on it. The admin's address is written on the contact,
# where changing it sends no security notice.
COMPANY_SCRIPT = """
env["res.lang"]._activate_lang("en_US")
env.ref("base.EUR").active = True
company = env.ref("base.main_company")
company.write({
    "name": "Equisis Demo SRL",
    "currency_id": env.ref("base.EUR").id,
    "country_id": env.ref("base.be").id,
    "street": "Rue de la Loi 42",
    "zip": "1000",
    "city": "Bruxelles",
    "vat": "BE0477472701",
    "email": "invoices@equisis-demo.example",
    "phone": "+32 2 123 45 67",
})
admin = env.ref("base.user_admin")
admin.partner_id.write({"email": "admin@equisis-demo.example", "lang": "en_US"})
env.cr.commit()
"""


# The addon, and its glue addons with the Sales and Purchase apps.
ADDONS = "equisis_mail,equisis_mail_sale,equisis_mail_purchase"
APPS = "l10n_be,sale_management,purchase"
# English first: the database's language; Odoo's own translations for the
# others, so that menus and PDFs follow a French or Dutch customer.
LANGUAGES = "en_US,fr_BE,nl_BE,fr_FR,nl_NL"


def odoo_command(odoo_bin, cluster, *args, subcommand=None):
    return cluster.odoo_command(
        odoo_bin, DB, DEMO / "data", *args, subcommand=subcommand
    )


def database_ready(cluster):
    """Whether the demo database was made to the end (the demo data is the
    last step of the first run)."""
    result = cluster.psql(
        "SELECT value FROM ir_config_parameter WHERE key = 'equisis_mail.demo_ready'",
        DB,
    )
    return result.stdout.strip() == "1"


def run_odoo(odoo_bin, cluster, env, *args):
    subprocess.run(
        odoo_command(
            odoo_bin, cluster, *args, "--stop-after-init", "--log-level", "warn"
        ),
        check=True,
        env=env,
    )


def run_shell(odoo_bin, cluster, env, script):
    """Run a Python script in an Odoo shell on the demo database."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as file:
        file.write(script)
    try:
        with open(file.name) as stdin:
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
    finally:
        os.unlink(file.name)


def ensure_localisation_packages(python):
    """The Belgian localisation brings Odoo's Peppol module, which needs
    ``phonenumbers`` in Odoo's Python."""
    if subprocess.run(
        [python, "-c", "import phonenumbers"], capture_output=True, check=False
    ).returncode:
        harness.say("installing into Odoo's Python: phonenumbers")
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "phonenumbers"], check=True
        )


def create_database(odoo_bin, cluster, env):
    """English database, Belgian company, then the apps and the demo data.

    Odoo's own demo data is left out: its partners and documents are not a
    Belgian accountant's, and the addon's demo data says what it shows.
    """
    if cluster.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'").stdout.strip():
        harness.say(f"the database {DB} was not finished: making it anew")
        cluster.psql(f'DROP DATABASE "{DB}"')
    run_odoo(odoo_bin, cluster, env, "--init", "base", "--load-language", LANGUAGES)
    run_shell(odoo_bin, cluster, env, COMPANY_SCRIPT)
    run_odoo(odoo_bin, cluster, env, "--init", f"{APPS},{ADDONS}")
    run_shell(
        odoo_bin,
        cluster,
        env,
        (ROOT / "tools" / "demo_data.py").read_text()
        + "\nload(env)\nenv.cr.commit()\n",
    )
    if not database_ready(cluster):
        sys.exit("The demo database could not be created: see the log above.")


def main():
    odoo_bin, why = harness.find_odoo()
    if not odoo_bin:
        sys.exit(f"Cannot run the demo: {why}. Install Odoo 19 first (see README).")
    harness.ensure_debian_packages(["initdb", "wkhtmltopdf"])
    python = harness.odoo_python(odoo_bin)
    harness.ensure_odoo_python_packages(python)
    ensure_localisation_packages(python)
    env, _wkhtmltopdf, _version = harness.wkhtmltopdf_env(python)
    DEMO.mkdir(exist_ok=True)
    cluster = harness.PgCluster(datadir=DEMO / "pg", port=PG_PORT)
    catcher = None
    try:
        cluster.start()
        harness.say(f"PostgreSQL of the demo in {cluster.base}, port {cluster.port}")
        if not database_ready(cluster):
            harness.say("first run: creating the demo database (a few minutes)")
            create_database(odoo_bin, cluster, env)
        else:
            harness.say("updating equisis_mail in the demo database")
            run_odoo(
                odoo_bin,
                cluster,
                env,
                # The glue addons of a database made before they existed.
                "--init",
                ADDONS,
                "--update",
                ADDONS,
            )
        # The catcher starts once the database is made: nothing Odoo sends
        # while making it reaches it.
        catcher = subprocess.Popen(
            [
                python,
                str(ROOT / "tools" / "mailcatcher.py"),
                str(DEMO / "mails"),
                str(SMTP_PORT),
            ]
        )
        run_shell(
            odoo_bin, cluster, env, SETUP_SCRIPT.format(smtp=SMTP_PORT, http=HTTP_PORT)
        )
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
