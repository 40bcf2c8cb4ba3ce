"""Internationalised addresses: the ASCII form of IDN domains, when SMTPUTF8 is needed,
and how such addresses are written in the To header."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from crm_notification.dispatch.outcomes import redact
from crm_notification.domain.addresses import (
    ascii_domain,
    ascii_domain_address,
    is_plausible_address,
    needs_smtputf8,
)
from crm_notification.rendering.compose import compose, mailbox, sender
from crm_notification.rendering.contexts import TEMPLATES
from crm_notification.rendering.renderer import Renderer
from crm_shared.contracts.vocabulary import Language

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)


def test_idn_domains_take_their_ascii_form_with_uts46_mapping() -> None:
    assert ascii_domain("bücher.example") == "xn--bcher-kva.example"
    assert ascii_domain("BÜCHER.Example") == "xn--bcher-kva.example"  # case folded first
    assert ascii_domain("bücher\u3002example") == "xn--bcher-kva.example"  # ideographic dot
    assert ascii_domain("例子.example") == "xn--fsqu00a.example"
    assert ascii_domain("Example.COM") == "Example.COM"  # ASCII is left as it is
    assert ascii_domain_address(" jörg@bücher.example ") == "jörg@xn--bcher-kva.example"
    for invalid in ["b_ü.example", "-bücher.example", "ü" * 64 + ".example"]:
        with pytest.raises(ValueError, match="internationalised"):
            ascii_domain(invalid)


def test_only_a_non_ascii_local_part_needs_smtputf8() -> None:
    assert needs_smtputf8("jörg@beispiel.example")
    assert needs_smtputf8("李伟@例子.example")
    assert not needs_smtputf8("info@bücher.example")
    assert not needs_smtputf8("anna@example.com")


def test_international_addresses_are_plausible_and_broken_ones_are_not() -> None:
    for good in ["info@bücher.example", "jörg@beispiel.example", "李伟@例子.example"]:
        assert is_plausible_address(good), good
    for bad in ["jörg@b_ü.example", "jörg\u2028x@beispiel.example", "jörg@\u200bexample.com"]:
        assert not is_plausible_address(bad), bad


def _message(recipient: str, name: str | None) -> bytes:
    rendered = Renderer().render("welcome", Language.DE, TEMPLATES["welcome"].example)
    return compose(
        rendered,
        from_header=sender("Warm Yang <desk@example.com>")[0],
        recipient=recipient,
        recipient_name=name,
        message_id="<ntf-1.notification@example.com>",
        date=NOW,
        unsubscribe=None,
    )


def test_an_idn_domain_with_an_ascii_local_part_keeps_the_message_7_bit() -> None:
    raw = _message("info@bücher.example", "Jörg Müller")
    assert raw.isascii()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    [to] = message["To"].addresses
    assert to.addr_spec == "info@xn--bcher-kva.example"
    assert to.display_name == "Jörg Müller"


@pytest.mark.parametrize("name", ["Jörg Müller", 'Dr. J. "Q" Müller', "李伟", None])
def test_a_non_ascii_local_part_is_written_as_utf8_in_the_header(name: str | None) -> None:
    raw = _message("jörg@bücher.example", name)
    head = raw.split(b"\r\n\r\n", 1)[0]
    [to_line] = [line for line in head.split(b"\r\n") if line.startswith(b"To:")]
    assert "jörg@xn--bcher-kva.example".encode() in to_line  # raw UTF-8 (RFC 6532)
    others = [line for line in raw.split(b"\r\n") if line != to_line]
    assert all(line.isascii() for line in others)  # the rest stays 7-bit
    message = email.message_from_bytes(raw, policy=email.policy.SMTPUTF8)
    assert "jörg@xn--bcher-kva.example" in str(message["To"])
    if name:
        assert message["To"].addresses[0].display_name == name
    assert message.get_body(("plain",)).get_content()  # the rest still parses


@pytest.mark.parametrize(
    "address",
    [
        "jörg müller@beispiel.example",
        "jörg\u2028@beispiel.example",
        "jörg\u0085@beispiel.example",
        "jörg@beispiel.example\r\nBcc: eve@example.com",
        "jörg<x>@beispiel.example",
        "jörg@b_ü.example",
        "jörg@@beispiel.example",
    ],
)
def test_addresses_that_cannot_be_written_are_refused(address: str) -> None:
    with pytest.raises(ValueError, match=r"address|domain"):
        mailbox("Jörg", address)


def test_smtp_answers_quoting_the_ascii_form_do_not_leak_it() -> None:
    text = "550 5.1.1 <JÖRG@xn--bcher-kva.example>: unknown; jörg@bücher.example"
    redacted = redact(text, "jörg@bücher.example")
    assert redacted == "550 5.1.1 <<recipient>>: unknown; <recipient>"
