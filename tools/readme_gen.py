"""Generate an addon's README.rst and static/description/index.html from
its readme/*.md fragments, the way OCA's oca-gen-addon-readme does (that tool
is not published on PyPI).

Usage: ``python tools/readme_gen.py [--check] [ADDON ...]`` (the tools
virtualenv has docutils). With ``--check`` nothing is written: the command
fails when a generated file differs from what is committed.
"""

import ast
import re
import sys
from pathlib import Path

from docutils.core import publish_string

ROOT = Path(__file__).resolve().parent.parent
ADDONS = (
    "equisis_mail",
    "equisis_mail_sale",
    "equisis_mail_purchase",
    "equisis_mail_queue_job",
)
SECTIONS = (
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("HISTORY.md", "Changelog"),
)
MARKER = ".. !! generated from readme/*.md by tools/readme_gen.py: do not edit !!"


def md_to_rst(text):
    """The Markdown the fragments use: paragraphs, lists, emphasis, code,
    links and level-3 headings."""
    lines = []
    for line in text.strip().splitlines():
        if line.startswith("### "):
            title = line[4:].strip()
            lines += [title, "~" * len(title)]
            continue
        line = re.sub(r"`([^`]+)`", r"``\1``", line)
        line = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`_", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def heading(title, char="="):
    return f"{title}\n{char * len(title)}\n\n"


def build_rst(addon_dir):
    manifest = ast.literal_eval((addon_dir / "__manifest__.py").read_text())
    readme = addon_dir / "readme"
    name = manifest["name"]
    parts = [
        f"{'=' * len(name)}\n{name}\n{'=' * len(name)}\n\n",
        f"{MARKER}\n\n",
        f"*{manifest['summary']}*\n\n",
        f"License: {manifest['license']}. Version: {manifest['version']}.\n\n",
        md_to_rst((readme / "DESCRIPTION.md").read_text()),
        "\n**Table of contents**\n\n.. contents::\n   :local:\n\n",
    ]
    for fragment, title in SECTIONS:
        if (readme / fragment).exists():
            parts += [heading(title), md_to_rst((readme / fragment).read_text()), "\n"]
    parts += [
        heading("Bug Tracker"),
        f"Bugs are tracked on `GitHub Issues <{manifest['website']}/issues>`_.\n\n",
        heading("Credits"),
        heading("Authors", "-"),
        "".join(f"* {author.strip()}\n" for author in manifest["author"].split(",")),
        "\n",
        heading("Contributors", "-"),
        md_to_rst((readme / "CONTRIBUTORS.md").read_text()),
        "\n",
        heading("Maintainers", "-"),
        "This module is maintained by: "
        + ", ".join(f"`{m} <https://github.com/{m}>`_" for m in manifest["maintainers"])
        + f".\n\nIts source: `{manifest['website']} <{manifest['website']}>`_.\n",
    ]
    return "".join(parts)


def build_html(rst):
    html = publish_string(
        rst,
        writer_name="html4css1",
        settings_overrides={
            "output_encoding": "unicode",
            "embed_stylesheet": False,
            "stylesheet_path": "",
            "xml_declaration": False,
            "toc_backlinks": "none",
            "report_level": 2,
            "halt_level": 2,
        },
    )
    return re.sub(r'<meta name="generator"[^>]*>\n', "", html)


def generated(addon_dir):
    rst = build_rst(addon_dir)
    return {
        addon_dir / "README.rst": rst,
        addon_dir / "static" / "description" / "index.html": build_html(rst),
    }


def main(argv):
    check = "--check" in argv
    addons = [arg for arg in argv if not arg.startswith("--")] or ADDONS
    stale = []
    for addon in addons:
        for path, content in generated(ROOT / addon).items():
            if path.exists() and path.read_text() == content:
                continue
            if check:
                stale.append(path.relative_to(ROOT))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
    for path in stale:
        print(f"{path} is stale: run python tools/readme_gen.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
