# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reading a delivery-status report (RFC 3464): for each recipient, what the
reporting mail server did (failed, delayed...), its status code and its
diagnostic line, so that a mailbox gone (5.x.x) is told from a mailbox full
for now (4.x.x)."""

import re
from dataclasses import dataclass

from .addresses import normalize_address

# An enhanced status code (RFC 3463): class 2, 4 or 5, subject, detail.
STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# A basic SMTP reply code, for reports that give no enhanced code.
REPLY_RE = re.compile(r"\b([45])\d\d\b")
# Longest diagnostic kept: enough for any server's one-line answer.
DIAGNOSTIC_MAX = 300


@dataclass
class BouncedRecipient:
    """One recipient of a delivery-status report."""

    address: str
    original: str = ""
    action: str = "failed"
    status: str = ""
    diagnostic: str = ""

    @property
    def failed(self):
        """The reporting server gave up on this recipient (not a delay notice)."""
        return self.action in ("failed", "")

    @property
    def temporary(self):
        """It gave up on a temporary cause (4.x.x: mailbox full, server down);
        the same address may work later."""
        code = self.status or _first_code(self.diagnostic)
        return code.startswith("4")

    def matches(self, addresses):
        """Whether this report is about one of these normalized addresses."""
        return bool({self.address, self.original} & set(addresses) - {""})


def _flat(value):
    return " ".join(str(value or "").split())


def _address(field):
    """``rfc822; Gone <gone@x.be>`` -> ``gone@x.be`` (empty if unreadable)."""
    value = _flat(field)
    if ";" in value:
        value = value.split(";", 1)[1]
    value = value.strip().strip("<>")
    return (normalize_address(value) or "").lower()


def _diagnostic(field):
    """``smtp; 550 5.1.1 User unknown`` -> ``550 5.1.1 User unknown``."""
    value = _flat(field)
    kind, sep, rest = value.partition(";")
    if sep and " " not in kind.strip():
        value = rest.strip()
    return value[:DIAGNOSTIC_MAX]


def _first_code(text):
    match = STATUS_RE.search(text or "")
    if match:
        return match.group(0)
    match = REPLY_RE.search(text or "")
    return match.group(0) if match else ""


def read_report(message):
    """The recipients of the delivery-status part of this e-mail.

    :param message: an ``email.message.Message``
    :return: [BouncedRecipient], empty when the e-mail holds no such part
    """
    part = next(
        (
            part
            for part in message.walk()
            if part.get_content_type() == "message/delivery-status"
        ),
        None,
    )
    if part is None:
        return []
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        return []
    recipients = []
    # The first block is about the message, the others one recipient each.
    for block in blocks[1:]:
        address = _address(block.get("Final-Recipient"))
        original = _address(block.get("Original-Recipient"))
        if not (address or original):
            continue
        diagnostic = _diagnostic(block.get("Diagnostic-Code"))
        status = STATUS_RE.search(_flat(block.get("Status")))
        recipients.append(
            BouncedRecipient(
                address=address or original,
                original=original,
                action=_flat(block.get("Action")).lower(),
                status=status.group(0) if status else _first_code(diagnostic),
                diagnostic=diagnostic,
            )
        )
    return recipients


def guess_from_text(address, text):
    """A recipient read from a report without delivery-status part (some
    servers send plain text): the first line that carries a status code."""
    line = next(
        (
            _flat(line)
            for line in (text or "").splitlines()
            if STATUS_RE.search(line) or REPLY_RE.search(line)
        ),
        "",
    )
    return BouncedRecipient(
        address=(normalize_address(address or "") or "").lower(),
        status=_first_code(line),
        diagnostic=line[:DIAGNOSTIC_MAX],
    )
