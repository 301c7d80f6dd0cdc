# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""RFC 6068 ``mailto:`` URLs."""

from urllib.parse import quote

# Mail clients and browsers do not all accept longer mailto URLs.
MAX_MAILTO_LENGTH = 2000
# RFC 6068 section 2: what may stay unencoded in an address (some-delims
# and unreserved), "@" aside; everything else, "%" and "&" included, is encoded.
SAFE_IN_ADDRESS = "!$'()*+,;=:@"


def _encode_address(address):
    """Percent-encode an address; an IDN domain goes in its UTF-8 form."""
    local, _sep, domain = address.rpartition("@")
    encoded_local = quote(local, safe="!$'()*,;=:").replace("+", "%2B")
    return f"{encoded_local}@{quote(domain, safe='')}"


def build_mailto(to=(), bcc=()):
    """Build ``mailto:to1,to2?bcc=b1,b2`` with every part percent-encoded."""
    url = "mailto:" + ",".join(_encode_address(address) for address in to)
    if bcc:
        url += "?bcc=" + ",".join(_encode_address(address) for address in bcc)
    return url
