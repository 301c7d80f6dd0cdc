"""Translations: complete in French and Dutch, and the check itself works."""

import subprocess
import sys
from pathlib import Path

import pytest

polib = pytest.importorskip("polib")

ROOT = Path(__file__).resolve().parent.parent
ADDONS = [
    "equisis_mail",
    "equisis_mail_sale",
    "equisis_mail_purchase",
    "equisis_mail_queue_job",
]


@pytest.fixture(scope="module")
def check():
    sys.path.insert(0, str(ROOT / "tools"))
    import i18n_check

    return i18n_check


@pytest.mark.parametrize("addon", ADDONS)
@pytest.mark.parametrize("lang", ["fr", "nl"])
def test_every_term_translated(check, addon, lang):
    i18n = ROOT / addon / "i18n"
    assert check.missing_translations(i18n / f"{addon}.pot", i18n / f"{lang}.po") == []


@pytest.mark.parametrize("addon", ADDONS)
@pytest.mark.parametrize("lang", ["fr", "nl"])
def test_msgfmt_check(addon, lang):
    po = ROOT / addon / "i18n" / f"{lang}.po"
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], check=True)


def _write(path, entries):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    for msgid, msgstr in entries:
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    po.save(str(path))
    return path


def test_check_catches_a_new_untranslated_string(check, tmp_path):
    pot = _write(tmp_path / "x.pot", [("Send", ""), ("A new string", "")])
    po = _write(tmp_path / "fr.po", [("Send", "Envoyer")])
    assert check.missing_translations(pot, po) == ["A new string"]
    po = _write(tmp_path / "fr.po", [("Send", "Envoyer"), ("A new string", "")])
    assert check.missing_translations(pot, po) == ["A new string"]


def test_check_catches_a_stale_pot(check, tmp_path):
    committed = _write(tmp_path / "old.pot", [("Send", "")])
    exported = _write(tmp_path / "new.pot", [("Send", ""), ("Retry e-mail", "")])
    assert check.stale_pot(committed, exported) == (["Retry e-mail"], [])
