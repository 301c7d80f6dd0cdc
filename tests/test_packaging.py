"""`pip wheel ./<addon>` builds each addon's wheel with whool."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "addon",
    [
        "equisis_mail",
        "equisis_mail_sale",
        "equisis_mail_purchase",
        "equisis_mail_queue_job",
    ],
)
def test_wheel_builds(tmp_path, addon):
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
            str(ROOT / addon),
        ],
        check=True,
    )
    manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())
    wheels = list(tmp_path.glob(f"odoo_addon_{addon}-{manifest['version']}*.whl"))
    assert len(wheels) == 1, list(tmp_path.iterdir())
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        metadata = next(name for name in names if name.endswith("METADATA"))
        text = wheel.read(metadata).decode()
    assert f"Name: odoo-addon-{addon}" in text
    assert "Requires-Dist: odoo==19.0.*" in text
    assert f"odoo/addons/{addon}/__manifest__.py" in names
    if addon != "equisis_mail":
        assert "Requires-Dist: odoo-addon-equisis_mail==19.0.*" in text
