"""Shared plumbing for the test, demo and benchmark commands.

Finds the installed Odoo, installs the system and Python packages the
commands need when they are missing, and runs a private PostgreSQL cluster
that never touches another one.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ROLE = "equisis"
DEBIAN_PACKAGES = {
    # binary: Debian package
    "initdb": "postgresql",
    "wkhtmltopdf": "wkhtmltopdf",
    "chromium": "chromium",
    "msgfmt": "gettext",
}
ODOO_PY_PACKAGES = {"aiosmtpd": "aiosmtpd", "websocket": "websocket-client"}


def say(message):
    print(f"[equisis] {message}", flush=True)


def find_odoo():
    """Return the path of the ``odoo`` command, or None with the reason."""
    odoo_bin = os.environ.get("ODOO_BIN") or shutil.which("odoo")
    if not odoo_bin:
        return None, "no $ODOO_BIN and no `odoo` command on PATH"
    if not os.access(odoo_bin, os.X_OK):
        return None, f"{odoo_bin} is not executable"
    return os.path.realpath(odoo_bin), None


def odoo_python(odoo_bin):
    """The interpreter of the ``odoo`` script: the one Odoo and its tests run in."""
    with open(odoo_bin, "rb") as handle:
        first = handle.readline().decode(errors="replace").strip()
    if first.startswith("#!") and "python" in first:
        return first[2:].split()[0]
    return sys.executable


def pg_bindir():
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def ensure_debian_packages(names):
    """Install the Debian packages whose binaries are missing (needs root)."""
    missing = []
    for binary in names:
        found = shutil.which(binary) or (binary == "initdb" and pg_bindir())
        if not found:
            missing.append(DEBIAN_PACKAGES[binary])
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say(f"missing system packages, please install: {' '.join(missing)}")
        return
    say(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def ensure_odoo_python_packages(python):
    missing = [
        package
        for module, package in ODOO_PY_PACKAGES.items()
        if subprocess.run(
            [python, "-c", f"import {module}"], capture_output=True, check=False
        ).returncode
    ]
    if missing:
        say(f"installing into Odoo's Python: {' '.join(missing)}")
        subprocess.run(
            [python, "-m", "pip", "install", "-q", *missing],
            check=True,
        )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgCluster:
    """A PostgreSQL cluster of our own: its folder, its port, its socket."""

    def __init__(self, datadir=None, port=None):
        self.temporary = datadir is None
        self.base = Path(datadir or tempfile.mkdtemp(prefix="equisis-pg-"))
        self.datadir = self.base / "data"
        self.sockdir = self.base / "sock"
        self.port = port or free_port()
        self.bindir = pg_bindir()
        self.as_postgres = os.geteuid() == 0

    def _run(self, args, **kwargs):
        if self.as_postgres:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, check=True, **kwargs)

    def start(self):
        self.base.mkdir(parents=True, exist_ok=True)
        self.sockdir.mkdir(exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.sockdir, "postgres")
        if not (self.datadir / "PG_VERSION").exists():
            self._run(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    PG_ROLE,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                stdout=subprocess.DEVNULL,
            )
        options = (
            f"-p {self.port} -k {self.sockdir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.base / "postgres.log"),
                "-o",
                options,
                "-w",
                "start",
            ],
            stdout=subprocess.DEVNULL,
        )
        return self

    def stop(self):
        try:
            self._run(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-m",
                    "fast",
                    "stop",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except subprocess.CalledProcessError:
            pass
        if self.temporary:
            shutil.rmtree(self.base, ignore_errors=True)

    def odoo_args(self):
        return [
            "--db_host",
            "127.0.0.1",
            "--db_port",
            str(self.port),
            "--db_user",
            PG_ROLE,
            "--db_password",
            "x",
        ]

    def psql(self, sql, database="postgres"):
        """Run one SQL statement on this cluster; return what it prints."""
        return subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                PG_ROLE,
                "-d",
                database,
                "-qtAc",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    def odoo_command(
        self, odoo_bin, database, data_dir, *args, subcommand=None, addons_path=ROOT
    ):
        """An ``odoo`` command line on one database of this cluster."""
        return [
            odoo_bin,
            *([subcommand] if subcommand else []),
            *self.odoo_args(),
            "--database",
            database,
            "--db-filter",
            f"^{database}$",
            "--addons-path",
            str(addons_path),
            "--data-dir",
            str(data_dir),
            *args,
        ]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_http(url, timeout=240):
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except OSError:
            time.sleep(1)
    return None
