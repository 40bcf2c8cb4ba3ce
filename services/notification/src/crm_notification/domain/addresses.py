"""Email addresses as the suppression list knows them: normalised, then hashed.

The list must outlive the addresses it names (an erased contact stays suppressed),
so it keeps only a keyed hash: without the key, a leaked list cannot be matched
against a list of known addresses.
"""

import hashlib
import hmac
import unicodedata


def normalise_address(address: str) -> str:
    """One spelling per mailbox: trimmed, NFC, lower case (providers ignore case)."""
    return unicodedata.normalize("NFC", address.strip()).lower()


def address_hash(address: str, *, key: bytes) -> str:
    """HMAC-SHA256 of the normalised address, hex."""
    return hmac.new(key, normalise_address(address).encode(), hashlib.sha256).hexdigest()


def address_domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def is_plausible_address(address: str) -> bool:
    """Worth handing to an SMTP server: one @, both sides present, no spaces or controls.
    (The server is the judge of the rest; this stops header injection and typos.)"""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or "." not in domain:
        return False
    return not any(ch.isspace() or ord(ch) < 32 or ch in "<>,;" for ch in address.strip())
