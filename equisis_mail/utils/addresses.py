# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Parsing of the recipients a user types: ``a@x.be; "Doe, J" <b@y.be>, c@z.be``."""

import re
from email.utils import getaddresses

# A pragmatic address check: what mail servers accept, not all of RFC 5322.
LOCAL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def idna_domain(domain):
    """Return the ASCII form of a domain (IDN allowed), or None if invalid."""
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(LABEL_RE.match(label) for label in labels):
        return None
    return ascii_domain.lower()


def normalize_address(address):
    """Return ``local@domain`` with the domain lowered and in ASCII, or None."""
    address = (address or "").strip()
    if (
        not address
        or any(char in address for char in "\r\n\0")
        or address.count("@") != 1
    ):
        return None
    local, domain = address.rsplit("@", 1)
    if (
        not LOCAL_RE.match(local)
        or ".." in local
        or local.startswith(".")
        or local.endswith(".")
    ):
        return None
    ascii_domain = idna_domain(domain)
    if not ascii_domain:
        return None
    return f"{local}@{ascii_domain}"


def split_recipients(text):
    """Split what the user typed into (valid addresses, invalid pieces).

    ``;`` and ``,`` both separate; ``Name <address>`` keeps the address only;
    duplicates (case of the domain ignored) are dropped, first one kept.
    """
    valid, invalid, seen = [], [], set()
    text = text or ""
    if "\r" in text or "\n" in text:
        pieces = [piece for piece in re.split(r"[\r\n]+", text) if piece.strip()]
        return [], [piece.strip() for piece in pieces] or [text]
    for chunk in _split_outside_quotes(text):
        chunk = chunk.strip()
        if not chunk:
            continue
        parsed = getaddresses([chunk])
        address = parsed[0][1] if len(parsed) == 1 else ""
        if "<" in chunk and not chunk.rstrip().endswith(">"):
            address = ""
        normalized = normalize_address(address)
        if not normalized:
            invalid.append(chunk)
            continue
        key = normalized.lower()
        if key not in seen:
            seen.add(key)
            valid.append(normalized)
    return valid, invalid


def _split_outside_quotes(text):
    """Split on ``;`` and ``,`` except inside double quotes or angle brackets."""
    pieces, current, quoted, angled = [], [], False, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angled = True
        elif char == ">" and not quoted:
            angled = False
        if char in ";," and not quoted and not angled:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces
