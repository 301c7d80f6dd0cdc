"""Load the addon's pure helpers without importing Odoo."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(relative, name):
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def addresses():
    return load("equisis_mail/utils/addresses.py", "equisis_addresses")


@pytest.fixture(scope="session")
def mailto():
    return load("equisis_mail/utils/mailto.py", "equisis_mailto")


@pytest.fixture(scope="session")
def testcmd():
    sys.path.insert(0, str(ROOT / "tools"))
    return load("tools/test.py", "equisis_testcmd")
