"""Email addresses as the suppression list knows them: normalised, then hashed.

The list must outlive the addresses it names (an erased contact stays suppressed),
so it keeps only a keyed hash: without the key, a leaked list cannot be matched
against a list of known addresses.

Internationalised addresses: a non-ASCII domain travels in its ASCII (punycode)
form, which every server understands; a non-ASCII local part has no ASCII form
and needs a server offering SMTPUTF8 (RFC 6531).
"""

import hashlib
import hmac
import unicodedata

import idna


def normalise_address(address: str) -> str:
    """One spelling per mailbox: trimmed, NFC, lower case (providers ignore case)."""
    return unicodedata.normalize("NFC", address.strip()).lower()


def address_hash(address: str, *, key: bytes) -> str:
    """HMAC-SHA256 of the normalised address, hex."""
    return hmac.new(key, normalise_address(address).encode(), hashlib.sha256).hexdigest()


def address_domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def ascii_domain(domain: str) -> str:
    """The domain as DNS and SMTP know it: IDNA A-labels (UTS 46 mapping, so case and
    full-width dots are folded first); an ASCII domain is left as it is. Raises
    ValueError for a domain IDNA refuses."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as problem:
        raise ValueError(f"the domain is not a valid internationalised name: {problem}") from None


def ascii_domain_address(address: str) -> str:
    """`local@domain` with the domain in its ASCII form (the local part as it is)."""
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{ascii_domain(domain)}"


def needs_smtputf8(address: str) -> bool:
    """A non-ASCII local part can only be sent with SMTPUTF8 (and UTF-8 headers)."""
    return not address.strip().rpartition("@")[0].isascii()


def is_plausible_address(address: str) -> bool:
    """Worth handing to an SMTP server: one @, both sides present, no spaces or controls,
    a domain IDNA accepts. (The server is the judge of the rest; this stops header
    injection and typos.)"""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return False
    if any(ch.isspace() or not ch.isprintable() or ch in "<>,;" for ch in address.strip()):
        return False
    try:
        return "." in ascii_domain(domain)
    except ValueError:
        return False
