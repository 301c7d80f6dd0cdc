"""Checks that the translations are complete and that the .pot is current.

Usage: ``python tools/i18n_check.py`` (the tools virtualenv has polib), or
``python tools/i18n_check.py --compare-pot ADDON EXPORTED.pot``.
"""

import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
ADDONS = (
    "equisis_mail",
    "equisis_mail_sale",
    "equisis_mail_purchase",
    "equisis_mail_queue_job",
)
LANGS = ("fr", "nl")


def pot_of(addon):
    return ROOT / addon / "i18n" / f"{addon}.pot"


def msgids(path):
    return {
        (entry.msgctxt, entry.msgid) for entry in polib.pofile(str(path)) if entry.msgid
    }


def missing_translations(pot_path, po_path):
    """The msgids of the .pot without a non-empty, non-fuzzy msgstr in the .po."""
    translated = {
        (entry.msgctxt, entry.msgid)
        for entry in polib.pofile(str(po_path))
        if entry.msgstr and "fuzzy" not in entry.flags
    }
    return sorted(msgid for _ctx, msgid in (msgids(pot_path) - translated))


def stale_pot(committed, exported):
    """Msgids the code has but the committed .pot lacks, and the reverse."""
    now, before = msgids(exported), msgids(committed)
    return sorted(m for _c, m in now - before), sorted(m for _c, m in before - now)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--compare-pot":
        addon = sys.argv[2]
        added, removed = stale_pot(pot_of(addon), sys.argv[3])
        for msgid in added:
            print(f"{addon}.pot is out of date: new term {msgid!r}")
        for msgid in removed:
            print(f"{addon}.pot is out of date: gone term {msgid!r}")
        sys.exit(1 if added or removed else 0)
    problems = 0
    for addon in ADDONS:
        for lang in LANGS:
            po = ROOT / addon / "i18n" / f"{lang}.po"
            result = subprocess.run(
                ["msgfmt", "--check", "-o", "/dev/null", str(po)], check=False
            )
            if result.returncode:
                problems += 1
            for msgid in missing_translations(pot_of(addon), po):
                print(f"{addon}/{lang}.po: not translated: {msgid!r}")
                problems += 1
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
