"""The staff pages over plain HTTP: sign-in, form validation that keeps what was typed,
duplicates, CSRF and role refusals, languages, and Chinese text kept as typed."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest

from crm_intake.service.context import IntakeContext
from support import unique

from .conftest import Browser, signed_in

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


def _first_contact(name: str, **extra: str) -> dict[str, str]:
    return {
        "form_id": unique("form"),
        "name": name,
        "country": "DE",
        "source": "forum",
        "primary_contact.full_name": "Anna Schmidt",
        "primary_contact.email": f"{unique('anna')}@example.com",
        "primary_contact.language": "de",
        "primary_contact.timezone": "Europe/Berlin",
        "primary_contact.email_consent": "on",
        **extra,
    }


def _error(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="f-{re.escape(field)}-error">([^<]*)</p>', page)
    assert found, f"no error shown next to {field}"
    return html.unescape(found.group(1)).strip()


def _value(page: str, field: str) -> str:
    found = re.search(rf'name="{re.escape(field)}"[^>]*value="([^"]*)"', page)
    assert found, f"no input {field}"
    return html.unescape(found.group(1))


async def _create(browser: Browser, name: str, **extra: str) -> str:
    answer = await browser.submit(
        "/ui/firms/new", _first_contact(name, **extra), form_page="/ui/firms/new"
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[1]


async def test_pages_need_a_signed_in_user(browsers: Callable[..., Browser]) -> None:
    answer = await browsers().get("/ui/firms/new")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/sign-in?next=/ui/firms/new"


async def test_a_wrong_password_is_refused_without_echoing_it(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    username = await new_staff("officer")
    browser = browsers("de")
    answer = await browser.sign_in(username, "not the password at all")
    assert answer.status_code == 401
    assert _error(answer.text, "password") == "Benutzername oder Passwort ist falsch."
    assert _value(answer.text, "username") == username
    assert "not the password at all" not in answer.text


async def test_a_deactivated_user_loses_the_session_at_once(
    browsers: Callable[..., Browser], new_staff: Any, web_ctx: IntakeContext
) -> None:
    from crm_intake.service import staff

    browser, username = await signed_in(browsers, new_staff, "officer")
    assert (await browser.get("/ui/")).status_code == 200
    await staff.deactivate_user(web_ctx, username)
    assert (await browser.get("/ui/")).status_code == 303


async def test_bad_input_shows_each_error_next_to_its_field_and_keeps_the_input(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "officer", language="de")
    typed = _first_contact(
        "",
        local_name="西门子（上海）有限公司",
        website="nicht eine adresse",
        **{"primary_contact.email": "anna-at-example", "primary_contact.phone": "12"},
    )
    answer = await browser.submit("/ui/firms/new", typed)
    assert answer.status_code == 422
    page = answer.text
    assert _error(page, "name") == "Dieses Feld ist erforderlich."
    assert _error(page, "website") == "Bitte eine Webadresse wie example.com angeben."
    assert _error(page, "primary_contact-email") == "Bitte eine gültige E-Mail-Adresse angeben."
    assert _error(page, "primary_contact-phone").startswith("Bitte eine gültige Telefonnummer")
    # What the user typed is still there, Chinese included.
    assert _value(page, "local_name") == "西门子（上海）有限公司"
    assert _value(page, "website") == "nicht eine adresse"
    assert _value(page, "primary_contact.email") == "anna-at-example"
    assert 'aria-invalid="true"' in page
    assert 'class="error-summary"' in page


async def test_the_service_rules_apply_to_forms_too(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "officer")
    firm_id = await _create(browser, unique("Owner Check GmbH"))
    edit = f"/ui/firms/{firm_id}/edit"
    form = await browser.get(edit)
    data = {"version": _value(form.text, "version"), "name": "Owner Check GmbH", "country": "DE",
            "source": "forum", "owner": "nobody.here"}  # fmt: skip
    answer = await browser.submit(edit, data)
    assert answer.status_code == 422
    assert _error(answer.text, "owner") == "No active staff user has this name."


async def test_a_likely_duplicate_is_shown_and_created_only_on_purpose(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "officer")
    stem = unique("Mueller")
    first_id = await _create(browser, f"{stem} Maschinenbau GmbH")
    second = _first_contact(f"{stem} Maschinenbau AG")
    warned = await browser.submit("/ui/firms/new", second, form_page="/ui/firms/new")
    assert warned.status_code == 409
    assert f'href="/ui/firms/{first_id}"' in warned.text
    assert 'name="allow_duplicate" value="true"' in warned.text
    created = await browser.submit(
        "/ui/firms/new", {**second, "allow_duplicate": "true"}, form_page="/ui/firms/new"
    )
    assert created.status_code == 303
    assert created.headers["location"] != f"/ui/firms/{first_id}"


async def test_chinese_names_and_addresses_round_trip_unchanged(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "officer", language="zh")
    local_name = f"上海{unique('测试')}智能制造有限公司"
    address = "上海市杨浦区国定路 335 号 2 号楼 8 层（创智天地）"
    firm_id = await _create(browser, unique("Zhineng GmbH"), local_name=local_name, notes=address)
    page = (await browser.get(f"/ui/firms/{firm_id}")).text
    assert local_name in page
    assert address in page
    assert '<html lang="zh-Hans">' in page
    api = await browser.get(f"/api/v1/enterprises/{firm_id}")  # the session works for the API
    assert api.status_code == 200
    assert api.json()["local_name"] == local_name
    assert api.json()["notes"] == address
    listed = await browser.get("/ui/firms", params={"q": local_name[:2]})
    assert local_name in listed.text


async def test_forms_without_the_csrf_token_are_refused(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "manager")
    firm_id = await _create(browser, unique("Csrf GmbH"))
    for data in ({}, {"csrf_token": "made-up"}):
        refused = await browser.http.post(
            f"/ui/firms/{firm_id}/status", data={**data, "status": "on_hold", "version": "1"}
        )
        assert refused.status_code == 403
    page = (await browser.get(f"/ui/firms/{firm_id}")).text
    assert "Status: Active" in page  # nothing changed


async def test_the_api_takes_the_session_only_with_the_csrf_header(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, username = await signed_in(browsers, new_staff, "officer")
    me = await browser.get("/api/v1/me")
    assert me.json() == {"id": username, "role": "officer"}
    firm_id = await _create(browser, unique("Header GmbH"))
    body = {"kind": "call", "occurred_at": "2026-01-05T09:00:00+08:00"}
    path = f"/api/v1/enterprises/{firm_id}/interactions"
    assert (await browser.http.post(path, json=body)).status_code == 401
    token = await browser.token("/ui/")
    logged = await browser.http.post(path, json=body, headers={"X-CSRF-Token": token})
    assert logged.status_code == 201
    assert logged.json()["created_by"] == username


async def test_an_officer_cannot_move_a_firm_backward_nor_merge(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    manager, _ = await signed_in(browsers, new_staff, "manager")
    officer, _ = await signed_in(browsers, new_staff, "officer")
    firm_id = await _create(manager, unique("Backward GmbH"))
    other_id = await _create(manager, unique("Other GmbH"))
    owner = await new_staff("officer")
    edit = f"/ui/firms/{firm_id}/edit"
    version = _value((await manager.get(edit)).text, "version")
    saved = await manager.submit(edit, {"version": version, "name": "Backward GmbH",
        "country": "DE", "source": "forum", "sector": "Automotive", "needs": "talent",
        "owner": owner})  # fmt: skip
    assert saved.status_code == 303, saved.text
    stage = f"/ui/firms/{firm_id}/stage"
    moved = await manager.submit(stage, {"to_stage": "qualified", "version": "2"})
    assert moved.status_code == 303, moved.text

    officer_form = (await officer.get(stage)).text
    assert 'value="first_contact"' not in officer_form  # no backward choice offered
    assert 'value="first_contact"' in (await manager.get(stage)).text
    refused = await officer.submit(
        stage, {"to_stage": "first_contact", "reason": "wrong", "version": "3"}
    )
    assert refused.status_code == 403
    assert "Stage: Qualified" in (await officer.get(f"/ui/firms/{firm_id}")).text

    assert (await officer.get(f"/ui/firms/{firm_id}/merge")).status_code == 403
    assert "/merge" not in (await officer.get(f"/ui/firms/{firm_id}")).text
    merge = await officer.submit(
        f"/ui/firms/{firm_id}/merge", {"duplicate_id": other_id}, form_page=stage
    )
    assert merge.status_code == 403
    assert (await officer.get(f"/ui/firms/{other_id}")).status_code == 200  # not merged


async def test_a_refused_stage_move_lists_what_is_missing(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "officer", language="de")
    firm_id = await _create(browser, unique("Missing GmbH"))
    stage = f"/ui/firms/{firm_id}/stage"
    page = (await browser.get(stage)).text
    assert "Nächste Phase: Qualifiziert" in page
    assert "Eine Branche ist erforderlich." in page
    refused = await browser.submit(stage, {"to_stage": "engaged", "version": "1"})
    assert refused.status_code == 422
    missing = (
        "Eine Branche ist erforderlich.",
        "Ein Kundenbetreuer ist erforderlich.",
        "Mindestens eine Besprechung oder ein Standortbesuch muss erfasst sein.",
    )
    for message in missing:
        assert message in refused.text


async def test_a_stale_form_is_refused_and_keeps_the_input(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "officer")
    firm_id = await _create(browser, unique("Stale GmbH"))
    status = f"/ui/firms/{firm_id}/status"
    assert (await browser.submit(status, {"status": "on_hold", "version": "1"})).status_code == 303
    stale = await browser.submit(status, {"status": "withdrawn", "reason": "gone", "version": "1"})
    assert stale.status_code == 422
    assert "Someone changed this firm while you were editing" in stale.text
    assert "gone" in stale.text


async def test_language_comes_from_the_user_then_the_switch(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "officer", language="de")
    page = (await browser.get("/ui/")).text
    assert '<html lang="de">' in page
    assert "<title>Übersicht · " in page
    await browser.submit("/ui/language", {"language": "zh", "next": "/ui/"}, form_page="/ui/")
    page = (await browser.get("/ui/")).text
    assert '<html lang="zh-Hans">' in page
    assert "<title>概览 · " in page


async def test_the_dashboard_counts_firms_per_stage(
    browsers: Callable[..., Browser], new_staff: Any
) -> None:
    browser, _ = await signed_in(browsers, new_staff, "officer")
    before = (await browser.get("/ui/")).text
    count = re.search(
        r'stage=first_contact">First contact</a></th>\s*<td class="num">([\d,]+)', before
    )
    assert count
    await _create(browser, unique("Counted GmbH"))
    after = (await browser.get("/ui/")).text
    assert f'<td class="num">{int(count.group(1).replace(",", "")) + 1:,}</td>' in after
    assert "Overdue follow-ups" in after
    assert "No interaction for 30 days" in after
