# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""No tests here: the SMTP fixture (``tests/common.py``) is exercised by
every test that sends, which would fail without it."""
