"""The test command: linters, the checks that need no Odoo, then the Odoo suite.

Usage: ``python3 tools/test.py`` (what ``make test`` runs).

Each suite prints a closing line ``<suite>: N passed, N failed``; the command
exits non-zero when any suite failed. Without an installed Odoo, the Odoo
suite is skipped and the command says so loudly.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

ROOT = harness.ROOT
ADDON = "equisis_mail"
# The addon and its glue addons (installed with Sales and Purchase).
ADDONS = ("equisis_mail", "equisis_mail_sale", "equisis_mail_purchase")
# Tested in a database of its own, with OCA's queue_job.
QUEUE_JOB_ADDON = "equisis_mail_queue_job"
# The bounce tests, run once more in a database with OCA's mail_tracking.
MAIL_TRACKING_TESTS = ("equisis_mail", "TestBounce")
TOOLS_VENV = ROOT / ".venv"
TOOL_PACKAGES = {
    "pytest": "pytest",
    "ruff": "ruff",
    "pylint_odoo": "pylint-odoo",
    "polib": "polib",
    # Pinned: the generated README.rst and index.html depend on its version.
    "docutils": "docutils==0.21.2",
}
# Log lines the suite provokes on purpose. Keep this list short and precise.
EXPECTED_LOG = [
    re.compile(r"odoo\.addons\.equisis_mail\w*\.tests\..* EXPECTED"),
]
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ "
    r"(?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): "
)
RESULT_LINE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
STARTING_LINE = re.compile(
    r"odoo\.addons\.equisis_mail\w*\.tests\.\w+: Starting (\w+)\.(\w+)"
)
# The test that needs a wkhtmltopdf without patched Qt (Debian's): a second
# Odoo run on the suite's database, with the system's wkhtmltopdf.
UNPATCHED_TEST = (
    "equisis_mail",
    "TestWkhtmltopdf",
    "test_one_per_call_without_patched_qt",
)
TEST_TAG = re.compile(
    r"^(?P<tag>[\w-]*)(?:/(?P<module>\w+))?(?::(?P<cls>\w+))?(?:\.(?P<method>\w+))?$"
)


def tools_python():
    python = TOOLS_VENV / "bin" / "python"
    if not python.exists():
        harness.say(f"creating the tools virtualenv in {TOOLS_VENV}")
        venv.EnvBuilder(with_pip=True).create(TOOLS_VENV)
    missing = [
        package
        for module, package in TOOL_PACKAGES.items()
        if subprocess.run(
            [str(python), "-c", f"import {module}"], capture_output=True, check=False
        ).returncode
    ]
    if missing:
        harness.say(f"installing tools: {' '.join(missing)}")
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *missing], check=True
        )
    return str(python)


def run_lint(python):
    """ruff and pylint-odoo; each tool is one check."""
    checks = {
        "ruff check": [python, "-m", "ruff", "check", "."],
        "ruff format": [python, "-m", "ruff", "format", "--check", "."],
        "pylint-odoo": [
            python,
            "-m",
            "pylint",
            "--rcfile",
            str(ROOT / ".pylintrc"),
            *ADDONS,
            QUEUE_JOB_ADDON,
        ],
    }
    passed = failed = 0
    for name, command in checks.items():
        result = subprocess.run(command, cwd=ROOT, check=False)
        if result.returncode:
            harness.say(f"{name}: FAILED")
            failed += 1
        else:
            passed += 1
    print(f"lint: {passed} passed, {failed} failed", flush=True)
    return failed == 0


def run_pytest(python):
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=ROOT,
        check=False,
        stdout=subprocess.PIPE,
        text=True,
    )
    print(result.stdout, end="")
    passed = sum(int(n) for n in re.findall(r"(\d+) passed", result.stdout))
    failed = sum(
        int(n) for n in re.findall(r"(\d+) (?:failed|errors?)\b", result.stdout)
    )
    if result.returncode not in (0, 5):
        failed = max(failed, 1)
    print(f"pytest: {passed} passed, {failed} failed", flush=True)
    return failed == 0


def analyse_odoo_log(log_path):
    """Count tests and find failures and unexpected errors in Odoo's log."""
    total = failures = 0
    unexpected = []
    classes = {}
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if started := STARTING_LINE.search(line):
                classes.setdefault(started[1], set()).add(started[2])
            match = RESULT_LINE.search(line)
            if match and "odoo.tests.result" in line:
                failed, errors, tests = (int(group) for group in match.groups())
                failures += failed + errors
                total += tests
            log = LOG_LINE.match(line)
            if (
                log
                and log["level"] in ("ERROR", "CRITICAL")
                and "odoo.tests.result" not in line
                and not any(pattern.search(line) for pattern in EXPECTED_LOG)
            ):
                unexpected.append(line.rstrip())
    if classes:
        print(
            "Odoo test classes run: "
            + ", ".join(
                f"{name} ({len(tests)})" for name, tests in sorted(classes.items())
            )
        )
    return total, failures, unexpected


def export_pot(odoo_bin, cluster, workdir, addon):
    """Export an addon's terms with the host's own exporter."""
    config = workdir / "odoo.conf"
    config.write_text(
        "[options]\n"
        f"db_host = 127.0.0.1\ndb_port = {cluster.port}\n"
        f"db_user = {harness.PG_ROLE}\ndb_password = x\n"
        f"addons_path = {ROOT}\ndata_dir = {workdir / 'data'}\n"
    )
    output = workdir / f"{addon}.pot"
    subprocess.run(
        [
            odoo_bin,
            "i18n",
            "export",
            "-c",
            str(config),
            "-d",
            "equisis_test",
            addon,
            "-o",
            str(output),
        ],
        check=True,
        capture_output=True,
    )
    return output


def selects_unpatched_test(test_tags):
    """Whether Odoo's --test-tags select the test run with Debian's
    wkhtmltopdf (no tags: the whole suite does)."""
    if not test_tags:
        return True
    module, cls, method = UNPATCHED_TEST
    for spec in test_tags.split(","):
        match = TEST_TAG.match(spec.strip())
        if (
            match
            and not spec.strip().startswith("-")
            and match["tag"] in ("", "standard", "post_install")
            and match["module"] in (None, module)
            and match["cls"] in (None, cls)
            and match["method"] in (None, method)
        ):
            return True
    return False


def unpatched_pass(odoo_bin, cluster, workdir, test_tags, wkhtmltopdf_version):
    """Run the test of Debian's wkhtmltopdf in a second Odoo run on the
    suite's database, when the suite ran with the patched build: Odoo reads
    which wkhtmltopdf to use once per process.

    :return: (its log's path, Odoo's exit code), or None when not run
    """
    if harness.PATCHED_QT not in wkhtmltopdf_version:
        return None  # The suite itself ran with an unpatched one.
    if not selects_unpatched_test(test_tags):
        return None
    system = shutil.which("wkhtmltopdf")
    version = harness.wkhtmltopdf_version(system) if system else ""
    if not system or harness.PATCHED_QT in version:
        harness.say(
            "no wkhtmltopdf without patched Qt on this machine's PATH: "
            f"{'.'.join(UNPATCHED_TEST[1:])} is skipped"
        )
        return None
    log_path = workdir / "odoo-unpatched.log"
    harness.say(
        f"running {'.'.join(UNPATCHED_TEST[1:])} with {system} ({version}) "
        f"(log: {log_path})"
    )
    module, cls, method = UNPATCHED_TEST
    result = subprocess.run(
        [
            *cluster.odoo_command(odoo_bin, "equisis_test", workdir / "data"),
            "--http-port",
            str(harness.free_port()),
            "--test-enable",
            "--test-tags",
            f"/{module}:{cls}.{method}",
            "--stop-after-init",
            "--no-database-list",
            "--max-cron-threads",
            "0",
            "--log-level",
            "test",
            "--logfile",
            str(log_path),
        ],
        check=False,
        env=dict(os.environ, EQUISIS_TEST_WKHTMLTOPDF="unpatched"),
    )
    if result.returncode:
        harness.say(f"odoo exited with {result.returncode} (unpatched wkhtmltopdf)")
    return log_path, result.returncode


def separate_pass(odoo_bin, cluster, workdir, env, name, addons, init, tags):
    """Run some tests again in a database of their own, with an OCA
    neighbour installed: its engine or its hooks differ from the suite's.

    :return: (its log's path, Odoo's exit code)
    """
    log_path = workdir / f"odoo-{name}.log"
    harness.say(f"running {tags} in a database with {init} (log: {log_path})")
    result = subprocess.run(
        [
            *cluster.odoo_command(
                odoo_bin,
                f"equisis_test_{name}",
                workdir / "data",
                addons_path=f"{ROOT},{addons}",
            ),
            "--http-port",
            str(harness.free_port()),
            "--init",
            init,
            "--test-enable",
            "--test-tags",
            tags,
            "--stop-after-init",
            "--no-database-list",
            "--max-cron-threads",
            "0",
            "--log-level",
            "test",
            "--logfile",
            str(log_path),
        ],
        check=False,
        env=env,
    )
    if result.returncode:
        harness.say(f"odoo exited with {result.returncode} ({name})")
    return log_path, result.returncode


def queue_job_pass(odoo_bin, python, cluster, workdir, test_tags, env):
    """The glue addon equisis_mail_queue_job with OCA's queue_job: with it,
    the background engine differs, so it is not installed beside the suite.

    :return: (its log's path, Odoo's exit code), or None when not run
    """
    if test_tags and not any(
        (match := TEST_TAG.match(spec.strip())) and match["module"] == QUEUE_JOB_ADDON
        for spec in test_tags.split(",")
    ):
        return None
    addons = harness.queue_job_addons_path(python)
    if not addons:
        return workdir / "no-queue-job.log", 1
    return separate_pass(
        odoo_bin,
        cluster,
        workdir,
        env,
        "queue_job",
        addons,
        QUEUE_JOB_ADDON,
        f"/{QUEUE_JOB_ADDON}",
    )


def selects_mail_tracking_pass(test_tags):
    """Whether Odoo's --test-tags select the bounce tests (no tags: yes)."""
    if not test_tags:
        return True
    module, cls = MAIL_TRACKING_TESTS
    return any(
        (match := TEST_TAG.match(spec.strip()))
        and not spec.strip().startswith("-")
        and match["tag"] in ("", "standard", "post_install")
        and match["module"] in (None, module)
        and match["cls"] in (None, cls)
        for spec in test_tags.split(",")
    )


def mail_tracking_pass(odoo_bin, python, cluster, workdir, test_tags, env):
    """The bounce tests again beside OCA's mail_tracking, which handles
    bounces too: both must record theirs.

    :return: (its log's path, Odoo's exit code), or None when not run
    """
    if not selects_mail_tracking_pass(test_tags):
        return None
    addons = harness.mail_tracking_addons_path(python)
    if not addons:
        return workdir / "no-mail-tracking.log", 1
    module, cls = MAIL_TRACKING_TESTS
    return separate_pass(
        odoo_bin,
        cluster,
        workdir,
        env,
        "mail_tracking",
        addons,
        f"{module},mail_tracking",
        f"/{module}:{cls}",
    )


def add_pass(counts, outcome, what):
    """Add the tests of another Odoo run to the suite's counts; a run that
    ran no test, or whose Odoo failed, counts as a failure.

    :param counts: [total, failures, unexpected log lines]
    """
    if not outcome:
        return
    log_path, code = outcome
    more, more_failures, more_unexpected = (
        analyse_odoo_log(log_path) if log_path.exists() else (0, 0, [])
    )
    if not more:
        harness.say(f"{what} ran no test")
    counts[0] += more
    counts[1] += more_failures + (0 if more else 1) + (1 if code else 0)
    counts[2] += more_unexpected


def run_odoo_suite(odoo_bin, test_tags=None, tools_py=None):
    python = harness.odoo_python(odoo_bin)
    harness.ensure_odoo_python_packages(python)
    harness.ensure_debian_packages(["initdb", "wkhtmltopdf", "chromium", "pdftotext"])
    workdir = Path(tempfile.mkdtemp(prefix="equisis-test-"))
    log_path = workdir / "odoo.log"
    http_port = harness.free_port()
    cluster = harness.PgCluster()
    harness.say(
        f"PostgreSQL cluster of our own in {cluster.base} on port {cluster.port}"
    )
    try:
        cluster.start()
        command = [
            odoo_bin,
            *cluster.odoo_args(),
            "--database",
            "equisis_test",
            "--addons-path",
            str(ROOT),
            "--data-dir",
            str(workdir / "data"),
            "--http-port",
            str(http_port),
            "--init",
            ",".join(ADDONS),
            "--test-enable",
            "--test-tags",
            test_tags or ",".join(f"/{addon}" for addon in ADDONS),
            "--stop-after-init",
            "--no-database-list",
            "--max-cron-threads",
            "0",
            "--log-level",
            "test",
            "--logfile",
            str(log_path),
        ]
        env, _wkhtmltopdf, wkhtmltopdf_version = harness.wkhtmltopdf_env(
            python, dict(os.environ, EQUISIS_TEST_HTTP_PORT=str(http_port))
        )
        harness.say(f"running the Odoo suite (log: {log_path})")
        result = subprocess.run(command, check=False, env=env)
        subprocess.run(["tail", "-n", "5", str(log_path)], check=False)
        total, failures, unexpected = analyse_odoo_log(log_path)
        counts = [total, failures, unexpected]
        second = unpatched_pass(
            odoo_bin, cluster, workdir, test_tags, wkhtmltopdf_version
        )
        if second:
            subprocess.run(["tail", "-n", "3", str(second[0])], check=False)
        add_pass(counts, second, "the run with the unpatched wkhtmltopdf")
        add_pass(
            counts,
            queue_job_pass(odoo_bin, python, cluster, workdir, test_tags, env),
            f"the run of {QUEUE_JOB_ADDON}",
        )
        add_pass(
            counts,
            mail_tracking_pass(odoo_bin, python, cluster, workdir, test_tags, env),
            "the run beside mail_tracking",
        )
        total, failures, unexpected = counts
        pot_stale = False
        if tools_py and not test_tags:
            for addon in ADDONS:
                exported = export_pot(odoo_bin, cluster, workdir, addon)
                stale = bool(
                    subprocess.run(
                        [
                            tools_py,
                            str(ROOT / "tools" / "i18n_check.py"),
                            "--compare-pot",
                            addon,
                            str(exported),
                        ],
                        check=False,
                    ).returncode
                )
                if stale:
                    harness.say(
                        f"refresh the .pot: cp {exported} {addon}/i18n/{addon}.pot"
                    )
                pot_stale = pot_stale or stale
    finally:
        cluster.stop()
    for line in unexpected[:40]:
        print(f"UNEXPECTED: {line}")
    if result.returncode:
        harness.say(f"odoo exited with {result.returncode}")
    failed = (
        failures
        + len(unexpected)
        + (1 if result.returncode else 0)
        + (1 if pot_stale else 0)
    )
    if total == 0:
        harness.say("the Odoo suite ran no test")
        failed = max(failed, 1)
    print(f"odoo: {total - failures} passed, {failed} failed", flush=True)
    if failed:
        harness.say(f"Odoo log kept in {log_path}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return failed == 0


def main():
    os.chdir(ROOT)
    harness.ensure_debian_packages(["msgfmt"])
    python = tools_python()
    ok = run_lint(python)
    ok = run_pytest(python) and ok
    odoo_bin, why = harness.find_odoo()
    if odoo_bin:
        ok = (
            run_odoo_suite(odoo_bin, os.environ.get("EQUISIS_TEST_TAGS"), python) and ok
        )
    else:
        ok = without_odoo(why, ci=bool(os.environ.get("CI"))) and ok
    sys.exit(0 if ok else 1)


def without_odoo(why, ci):
    """Say loudly that the Odoo suite cannot run; in CI that is a failure,
    since a run without it would prove nothing."""
    print("=" * 72)
    if ci:
        print(f"ODOO SUITE CANNOT RUN IN CI: {why}.")
        print("Install Odoo 19 and put `odoo` on PATH, or set ODOO_BIN to it.")
    else:
        print(f"ODOO SUITE SKIPPED: {why}.")
        print("Only the checks that need no Odoo ran; install Odoo 19 to run it.")
    print("=" * 72, flush=True)
    if ci:
        print("odoo: 0 passed, 1 failed", flush=True)
    return not ci


if __name__ == "__main__":
    main()
