"""The multi-process reliability run: ``make reliability``.

Runs the addon the way a company with several users deploys Odoo, and
counts what reached a mail server on loopback:

1. A throwaway PostgreSQL cluster, a database with equisis_mail, two
   invoicing users (Ann and Ben) whose own SMTP servers point at a mail
   catcher (``tools/mailcatcher.py``), and 225 posted invoices.
2. Odoo in multi-process mode: ``--workers 2``, Odoo's default two cron
   workers, HTTP, and the wkhtmltopdf with patched Qt that production runs.
3. Ann and Ben open send windows on overlapping selections (invoices 1-15
   and 10-25) over JSON-RPC and validate them at the same moment. A user
   told that someone else is sending the same documents clicks Send again a
   moment later, as a person would.
4. Ann sends the 200 other invoices: they go to the background. Meanwhile
   Odoo's own mail queue runs beside the addon's job, over and over
   (``mail.mail.process_email_queue`` called by an administrator over
   JSON-RPC, in the HTTP workers), so that both take the same outgoing mails.
   Once part of the batch is committed, the cron worker running the addon's
   job is killed (SIGKILL), then Odoo is stopped and started again, and the
   run waits until nothing is left to do. Besides, the catcher stores the
   60th mail and holds back its "250" answer: the process that sent it, cron
   worker or HTTP worker, is killed (SIGKILL) while the server has the mail
   and Odoo does not know it yet.
5. It counts mails per invoice, duplicates, invoices without mail, work left
   (queue, outgoing mails, invoices not marked sent) and the time to recover,
   prints them and writes them into docs/RELIABILITY.md.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

ROOT = harness.ROOT
DB = "equisis_reliability"
PASSWORD = "reliability-run-password"
BACKGROUND = 200
# The mail whose sender is killed between the catcher storing it and its
# answer: one of the background batch.
STALL_AT = 60
ADMIN = 2
OVERLAP = (range(15), range(9, 25))
REPORT = ROOT / "docs" / "RELIABILITY.md"
BEGIN, END = "<!-- reliability run: begin -->", "<!-- reliability run: end -->"

POPULATE = """
import json
env = env(user=1)
params = env["ir.config_parameter"]
# Nothing answers there: PDFs come out unstyled and fast.
params.set_param("report.url", "http://127.0.0.1:9")
params.set_param("mail.server.personal.limit.minutes", "100000")
env.company.email = "company@reliability.example.com"
env.ref("base.user_admin").password = PASSWORD
env["ir.mail_server"].search([]).active = False
env["ir.mail_server"].create({"name": "Company", "smtp_host": "127.0.0.1",
    "smtp_port": SMTP_PORT, "smtp_encryption": "none"})
groups = env.ref("account.group_account_invoice") | env.ref("base.group_user")
users = {}
for name in ("ann", "ben"):
    user = env["res.users"].create({"name": name.title(), "login": name,
        "password": PASSWORD, "email": f"{name}@reliability.example.com",
        "group_ids": [(6, 0, groups.ids)]})
    user.write({"smtp_host": "127.0.0.1", "smtp_port": SMTP_PORT,
        "smtp_encryption": "none"})
    users[name] = user.id
partners = env["res.partner"].create([{"name": f"Customer {i}",
    "email": f"customer{i}@reliability.example.com",
    "lang": "en_US"} for i in range(20)])
product = env["product.product"].create({"name": "Consulting", "list_price": 100})
moves = env["account.move"]
for start in range(0, COUNT, 25):
    batch = env["account.move"].create([{"move_type": "out_invoice",
        "partner_id": partners[i % 20].id, "invoice_date": "2026-11-02",
        "invoice_line_ids": [(0, 0, {"product_id": product.id, "price_unit": 10,
            "tax_ids": []})]} for i in range(start, min(start + 25, COUNT))])
    batch.action_post()
    moves |= batch
env.cr.commit()
print(json.dumps({"users": users, "moves": moves.ids}))
"""


def say(message):
    harness.say(f"reliability: {message}")


class Odoo:
    """The multi-process server, started and stopped as an administrator would."""

    def __init__(self, odoo_bin, cluster, work, env):
        self.odoo_bin, self.cluster, self.work = odoo_bin, cluster, work
        self.env = env
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def command(self, *args, subcommand=None):
        return self.cluster.odoo_command(
            self.odoo_bin, DB, self.work / "data", *args, subcommand=subcommand
        )

    def start(self):
        self.process = subprocess.Popen(
            self.command(
                "--workers",
                "2",
                "--max-cron-threads",
                "2",
                "--http-port",
                str(self.port),
                "--http-interface",
                "127.0.0.1",
                "--limit-time-real",
                "1800",
                "--limit-time-cpu",
                "1800",
                "--limit-memory-soft",
                str(4 * 2**30),
                "--limit-memory-hard",
                str(5 * 2**30),
                "--logfile",
                str(self.work / "odoo.log"),
            ),
            start_new_session=True,
            env=self.env,
        )
        if harness.wait_http(f"{self.url}/web/login", 240) != 200:
            raise RuntimeError("Odoo did not start; see " + str(self.work))

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def rpc(self, service, method, *args):
        payload = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": service, "method": method, "args": args},
                "id": 1,
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/jsonrpc",
            data=payload,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=900) as response:
            answer = json.loads(response.read())
        if "error" in answer:
            raise RuntimeError(answer["error"]["data"].get("message", answer["error"]))
        # A method that returns nothing has no result.
        return answer.get("result")

    def call(self, uid, model, method, *args):
        return self.rpc("object", "execute_kw", DB, uid, PASSWORD, model, method, args)

    def cron_worker_pid(self):
        """The worker running a cron job: its database session holds the
        job's row lock (Odoo names each session ``odoo-<pid>``)."""
        rows = self.cluster.psql(
            "SELECT DISTINCT a.application_name FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.relation = 'ir_cron'::regclass AND l.mode = 'RowShareLock' "
            "AND a.xact_start < now() - interval '2 seconds' "
            "AND a.application_name LIKE 'odoo-%'",
            DB,
        ).stdout.split()
        return int(rows[0].split("-", 1)[1]) if rows else None


def count(cluster, sql):
    out = cluster.psql(sql, DB).stdout.strip()
    return int(out or 0)


def mails_by_invoice(folder):
    counts = Counter()
    for path in Path(folder).glob("*.eml"):
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0].decode(errors="replace")
        match = re.search(r"INV/\d{4}/\d+", head)
        if match:
            counts[match[0]] += 1
    return counts


def send_at_the_same_moment(odoo, users, moves):
    """Both users open their window first, then validate together."""
    windows = {}
    for name, selection in zip(("ann", "ben"), OVERLAP, strict=True):
        ids = [moves[i] for i in selection]
        action = odoo.call(
            users[name], "account.move", "action_equisis_open_send_wizard", ids
        )
        windows[name] = action["res_id"]
    barrier = threading.Barrier(2)
    outcomes = {}

    def validate(name):
        barrier.wait()
        for attempt in range(120):
            try:
                odoo.call(
                    users[name], "equisis.mail.send", "action_send", [windows[name]]
                )
                outcomes[name] = f"sent (attempt {attempt + 1})"
                return
            except RuntimeError as error:
                if "someone else" not in str(error):
                    outcomes[name] = f"refused: {error}"
                    return
                time.sleep(1)
        outcomes[name] = "still refused after 120 attempts"

    threads = [threading.Thread(target=validate, args=(name,)) for name in windows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


class HostQueue(threading.Thread):
    """Odoo's own mail queue, run again and again beside the addon's job."""

    def __init__(self, odoo):
        super().__init__(daemon=True)
        self.odoo = odoo
        self.running = True
        self.runs = 0
        self.errors = Counter()

    def run(self):
        while self.running:
            try:
                self.odoo.call(ADMIN, "mail.mail", "process_email_queue")
                self.runs += 1
            except (OSError, RuntimeError) as error:
                # Odoo restarting, or a worker busy: try again.
                self.errors[type(error).__name__] += 1
                time.sleep(1)
            time.sleep(0.3)


class SmtpKiller(threading.Thread):
    """Kills the process whose mail the catcher stalls (``MAILCATCHER_STALL_AT``):
    the server has stored the mail, its "250" has not reached the sender."""

    def __init__(self, folder):
        super().__init__(daemon=True)
        self.marker = Path(folder) / "stalled"
        self.running = True
        self.killed = None

    def run(self):
        while self.running and not self.marker.exists():
            time.sleep(0.05)
        if not self.running:
            return
        time.sleep(0.2)
        port = self.marker.read_text().strip()
        sockets = subprocess.run(
            ["ss", "-Htnp", f"sport = :{port}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        pids = re.findall(r"pid=(\d+)", sockets)
        if pids:
            os.kill(int(pids[0]), signal.SIGKILL)
            self.killed = int(pids[0])


def left_to_do(cluster, move_ids):
    ids = ",".join(map(str, move_ids))
    return {
        "queued": count(cluster, "SELECT count(*) FROM equisis_mail_queue"),
        "outgoing": count(
            cluster,
            "SELECT count(*) FROM mail_mail WHERE equisis_model IS NOT NULL "
            "AND state = 'outgoing'",
        ),
        "not_recorded": count(
            cluster,
            "SELECT count(*) FROM mail_mail WHERE equisis_model IS NOT NULL "
            "AND state IN ('sent', 'exception') AND equisis_reported IS NOT TRUE",
        ),
        "not_marked_sent": count(
            cluster,
            f"SELECT count(*) FROM account_move WHERE id IN ({ids}) "
            "AND is_move_sent IS NOT TRUE "
            "AND COALESCE(equisis_mail_failure, '') NOT LIKE '%may have left%'",
        ),
    }


def may_have_left(cluster, move_ids):
    """The invoices whose mail the addon failed as "may have left": handed to
    SMTP by a process that died before recording the server's answer."""
    ids = ",".join(map(str, move_ids))
    out = cluster.psql(
        f"SELECT name FROM account_move WHERE id IN ({ids}) "
        "AND equisis_mail_state = 'failed' "
        "AND equisis_mail_failure LIKE '%may have left%'",
        DB,
    ).stdout
    return out.split()


def main():
    odoo_bin, why = harness.find_odoo()
    if not odoo_bin:
        sys.exit(f"The reliability run needs Odoo: {why}.")
    python = harness.odoo_python(odoo_bin)
    harness.ensure_odoo_python_packages(python)
    harness.ensure_debian_packages(["initdb", "wkhtmltopdf"])
    work = Path(tempfile.mkdtemp(prefix="equisis-reliability-"))
    cluster = harness.PgCluster().start()
    smtp_port = harness.free_port()
    mails = work / "mails"
    smtp_killer = SmtpKiller(mails)
    smtp_killer.start()
    catcher = subprocess.Popen(
        [python, str(ROOT / "tools" / "mailcatcher.py"), str(mails), str(smtp_port)],
        env={**os.environ, "MAILCATCHER_STALL_AT": str(STALL_AT)},
        stdout=subprocess.DEVNULL,
    )
    odoo_env, _wkhtmltopdf, _version = harness.wkhtmltopdf_env(python)
    odoo = Odoo(odoo_bin, cluster, work, odoo_env)
    started = time.monotonic()
    try:
        say(f"installing equisis_mail (work folder {work})")
        subprocess.run(
            odoo.command(
                "-i", "equisis_mail", "--stop-after-init", "--log-level", "warn"
            ),
            check=True,
        )
        script = (
            POPULATE.replace("SMTP_PORT", str(smtp_port))
            .replace("PASSWORD", repr(PASSWORD))
            .replace("COUNT", str(25 + BACKGROUND))
        )
        result = subprocess.run(
            odoo.command("--no-http", "--log-level", "warn", subcommand="shell"),
            input=script,
            text=True,
            capture_output=True,
            check=True,
        )
        data = json.loads(
            [line for line in result.stdout.splitlines() if line.startswith("{")][-1]
        )
        users, moves = data["users"], data["moves"]
        say("starting Odoo: --workers 2, Odoo's default two cron workers")
        odoo.start()

        say("Ann and Ben send overlapping selections at the same moment")
        outcomes = send_at_the_same_moment(odoo, users, moves)
        say(f"  {outcomes}")

        say(f"Ann sends {BACKGROUND} invoices: they go to the background")
        background = moves[25:]
        action = odoo.call(
            users["ann"], "account.move", "action_equisis_open_send_wizard", background
        )
        odoo.call(users["ann"], "equisis.mail.send", "action_send", [action["res_id"]])
        host_queue = HostQueue(odoo)
        host_queue.start()
        killed_pid = None
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            queued = count(cluster, "SELECT count(*) FROM equisis_mail_queue")
            pid = odoo.cron_worker_pid()
            if pid and queued <= BACKGROUND - 40:
                os.kill(pid, signal.SIGKILL)
                killed_pid = pid
                break
            time.sleep(0.5)
        killed_at = time.monotonic()
        queued_at_kill = count(cluster, "SELECT count(*) FROM equisis_mail_queue")
        outgoing_at_kill = count(
            cluster,
            "SELECT count(*) FROM mail_mail WHERE equisis_model IS NOT NULL "
            "AND state = 'outgoing'",
        )
        say(
            f"killed the cron worker {killed_pid}: {queued_at_kill} queued, "
            f"{outgoing_at_kill} mails made and not delivered"
        )
        odoo.stop()
        say("Odoo stopped; starting it again")
        odoo.start()
        while time.monotonic() < killed_at + 900:
            left = left_to_do(cluster, moves[:25] + background)
            if not any(left.values()):
                break
            time.sleep(2)
        recovered = time.monotonic() - killed_at
        host_queue.running = False
        smtp_killer.running = False
        host_queue.join(timeout=60)
        left = left_to_do(cluster, moves[:25] + background)
        time.sleep(2)  # let the catcher write its last files
        counts = mails_by_invoice(mails)
        names = dict(
            line.split("|")
            for line in cluster.psql(
                "SELECT id || '|' || name FROM account_move WHERE id IN ("
                + ",".join(map(str, moves))
                + ")",
                DB,
            ).stdout.split()
        )
        expected = [names[str(move_id)] for move_id in moves]
        unknown = may_have_left(cluster, moves)
        figures = {
            "invoices": len(expected),
            "mails": sum(counts[name] for name in expected),
            "duplicates": sum(max(counts[name] - 1, 0) for name in expected),
            # A mail that did not reach the server and that its invoice does
            # not show as failed, with Retry at hand.
            "lost": sum(
                1 for name in expected if not counts[name] and name not in unknown
            ),
            "failed as may have left": len(unknown),
            "of which the server had": sum(1 for name in unknown if counts[name]),
            "stuck": sum(left.values()),
            **{f"left: {key}": value for key, value in left.items()},
            "concurrent sends": outcomes,
            "runs of Odoo's mail queue beside": host_queue.runs,
            "cron worker killed": bool(killed_pid),
            f"sender of mail {STALL_AT} killed before the server's answer": bool(
                smtp_killer.killed
            ),
            "queued when killed": queued_at_kill,
            "made and not delivered when killed": outgoing_at_kill,
            "time to recover (s)": round(recovered, 1),
            "whole run (s)": round(time.monotonic() - started, 1),
        }
    finally:
        odoo.stop()
        catcher.terminate()
        cluster.stop()
    for key, value in figures.items():
        print(f"{key}: {value}")
    write_report(figures)
    ok = (
        figures["cron worker killed"]
        and smtp_killer.killed
        # At most one "may have left" per killed process: more would be
        # mails failed for nothing.
        and figures["failed as may have left"] <= 2
        and not figures["duplicates"]
        and not figures["lost"]
        and not figures["stuck"]
    )
    print(f"reliability: {1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


def write_report(figures):
    rows = "\n".join(f"| {key} | {value} |" for key, value in figures.items())
    block = (
        f"{BEGIN}\n"
        f"Last run: {time.strftime('%Y-%m-%d')}, `make reliability`, on 2 cores.\n\n"
        f"| figure | value |\n| --- | --- |\n{rows}\n{END}"
    )
    text = REPORT.read_text()
    if BEGIN in text:
        text = re.sub(
            re.escape(BEGIN) + ".*?" + re.escape(END),
            lambda _m: block,
            text,
            flags=re.DOTALL,
        )
    else:
        text += f"\n## Multi-process run\n\n{block}\n"
    REPORT.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
