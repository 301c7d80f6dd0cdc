"""The test command must fail on what Odoo hides behind a zero exit code."""

LINE = "2026-11-28 10:00:00,000 123 {level} db {logger}: {text}\n"


def write_log(tmp_path, *lines):
    path = tmp_path / "odoo.log"
    path.write_text("".join(LINE.format(**line) for line in lines))
    return path


def test_counts_tests_and_failures(testcmd, tmp_path):
    log = write_log(
        tmp_path,
        {
            "level": "INFO",
            "logger": "odoo.tests.result",
            "text": "0 failed, 0 error(s) of 7 tests when loading database 'db'",
        },
        {
            "level": "ERROR",
            "logger": "odoo.tests.result",
            "text": "1 failed, 1 error(s) of 5 tests when loading database 'db'",
        },
    )
    total, failures, unexpected = testcmd.analyse_odoo_log(log)
    assert (total, failures, unexpected) == (12, 2, [])


def test_unexpected_error_lines_fail(testcmd, tmp_path):
    log = write_log(
        tmp_path,
        {
            "level": "ERROR",
            "logger": "odoo.addons.mail.models.mail_mail",
            "text": "boom",
        },
        {"level": "WARNING", "logger": "odoo.x", "text": "fine"},
    )
    _total, _failures, unexpected = testcmd.analyse_odoo_log(log)
    assert len(unexpected) == 1
    assert "boom" in unexpected[0]


def test_without_odoo_fails_in_ci_only(testcmd, capsys):
    assert testcmd.without_odoo("no `odoo` command on PATH", ci=False)
    assert "SKIPPED" in capsys.readouterr().out
    assert not testcmd.without_odoo("no `odoo` command on PATH", ci=True)
    out = capsys.readouterr().out
    assert "ODOO_BIN" in out
    assert "odoo: 0 passed, 1 failed" in out


def test_unpatched_test_selected_by_tags(testcmd):
    select = testcmd.selects_unpatched_test
    assert select(None)
    assert select("/equisis_mail")
    assert select("/equisis_mail:TestWkhtmltopdf")
    assert select("/equisis_mail:TestWkhtmltopdf.test_one_per_call_without_patched_qt")
    assert not select("/equisis_mail:TestWkhtmltopdf.test_batch_with_patched_qt")
    assert not select("/equisis_mail:TestSend")
    assert not select("/equisis_mail_sale")
    assert not select("-/equisis_mail")
    assert select("/equisis_mail_sale,/equisis_mail")
