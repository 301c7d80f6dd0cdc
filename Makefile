# The two commands of equisis_mail. Both expect an installed Odoo 19
# (`odoo` on PATH, or ODOO_BIN); see README.md.
PYTHON ?= /usr/bin/python3

.PHONY: test run bench reliability screenshots pot

test:
	$(PYTHON) tools/test.py

run:
	$(PYTHON) tools/demo.py

bench:
	$(PYTHON) bench/bench.py

reliability:
	$(PYTHON) tools/reliability.py

screenshots:
	$(PYTHON) tools/screenshots.py
