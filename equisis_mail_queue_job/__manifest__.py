# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Equisis Mail - Queue Job",
    "summary": "Send large batches of Equisis Mail as queue jobs (OCA queue_job)",
    "version": "19.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/equisis/equisis_mail",
    "author": "equisis_mail contributors",
    "maintainers": ["equisis"],
    "license": "LGPL-3",
    "depends": ["equisis_mail", "queue_job"],
    "data": ["data/queue_job_data.xml"],
    "installable": True,
    "auto_install": True,
}
