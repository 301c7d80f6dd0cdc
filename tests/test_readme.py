"""README.rst and the Apps page are generated from readme/*.md, and current."""

import importlib.util
import sys

from conftest import ROOT


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "readme_gen", ROOT / "tools" / "readme_gen.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_gen"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_current(capsys):
    assert load_generator().main(["--check"]) == 0, capsys.readouterr().out


def test_apps_page_shows_the_fragments():
    html = (ROOT / "equisis_mail/static/description/index.html").read_text()
    for fragment in ("DESCRIPTION.md", "CONFIGURE.md", "USAGE.md"):
        text = (ROOT / "equisis_mail/readme" / fragment).read_text()
        first_words = " ".join(text.split()[1:4]).replace("*", "")
        assert first_words.split()[0] in html, (fragment, first_words)


def test_check_fails_when_a_fragment_changed(tmp_path, monkeypatch):
    generator = load_generator()
    addon = tmp_path / "equisis_mail"
    (addon / "readme").mkdir(parents=True)
    for path in (ROOT / "equisis_mail/readme").iterdir():
        (addon / "readme" / path.name).write_text(path.read_text())
    (addon / "__manifest__.py").write_text(
        (ROOT / "equisis_mail/__manifest__.py").read_text()
    )
    monkeypatch.setattr(generator, "ROOT", tmp_path)
    monkeypatch.setattr(generator, "ADDONS", ("equisis_mail",))
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0
    (addon / "readme" / "USAGE.md").write_text("Something new.\n")
    assert generator.main(["--check"]) == 1
