"""`pip wheel ./equisis_mail` builds the addon's wheel with whool."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_builds(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT / "equisis_mail"),
        ],
        check=True,
    )
    wheels = list(tmp_path.glob("odoo_addon_equisis_mail-19.0.1.0.0*.whl"))
    assert len(wheels) == 1, list(tmp_path.iterdir())
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        metadata = next(name for name in names if name.endswith("METADATA"))
        text = wheel.read(metadata).decode()
    assert "Name: odoo-addon-equisis_mail" in text
    assert "Requires-Dist: odoo==19.0.*" in text
    assert "odoo/addons/equisis_mail/__manifest__.py" in names
