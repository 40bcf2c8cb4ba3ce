"""The session cookie's flags and the CSRF refusal, on the app as bootstrap builds it
(served in memory without starting it: none of these requests reaches the database)."""

import re

import httpx
import pytest

from crm_intake.bootstrap import bootstrap
from crm_intake.settings import IntakeSettings

pytestmark = pytest.mark.unit

SECRETS = {
    "api_token_secret": "a-real-token-secret-for-tests",
    "intake_session_secret": "a-real-session-secret-for-tests",
}


def _client(env: str) -> httpx.AsyncClient:
    settings = IntakeSettings(_env_file=None, env=env, **SECRETS)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=bootstrap(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _cookie_header(client: httpx.AsyncClient) -> str:
    response = await client.get("/ui/sign-in")
    assert response.status_code == 200
    return response.headers["set-cookie"]


async def test_the_session_cookie_is_http_only_lax_and_secure_in_production() -> None:
    header = (await _cookie_header(_client("production"))).lower()
    assert header.startswith("crm_session=")
    assert "httponly" in header
    assert "samesite=lax" in header
    assert "secure" in header


async def test_local_development_sends_the_cookie_over_plain_http() -> None:
    header = (await _cookie_header(_client("development"))).lower()
    assert "httponly" in header
    assert "samesite=lax" in header
    assert "secure" not in header


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_a_form_without_the_sessions_csrf_token_is_refused(token: str | None) -> None:
    client = _client("development")
    page = await client.get("/ui/sign-in")
    real = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert real is not None
    form = {"username": "li.wei", "password": "whatever-it-is"}
    if token is not None:
        form["csrf_token"] = token
    refused = await client.post("/ui/sign-in", data=form)
    assert refused.status_code == 403
    assert "<title>Form expired" in refused.text


async def test_a_form_from_another_browsers_session_is_refused() -> None:
    mine, theirs = _client("development"), _client("development")
    theirs_page = (await theirs.get("/ui/sign-in")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', theirs_page)
    assert token is not None
    await mine.get("/ui/sign-in")
    refused = await mine.post("/ui/language", data={"csrf_token": token.group(1), "language": "de"})
    assert refused.status_code == 403


async def test_the_language_switch_sets_a_cookie_and_returns_to_the_page() -> None:
    client = _client("development")
    page = await client.get("/ui/sign-in", headers={"Accept-Language": "de-DE"})
    assert '<html lang="de">' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    switched = await client.post(
        "/ui/language",
        data={"csrf_token": token.group(1), "language": "zh", "next": "/ui/sign-in"},
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/ui/sign-in"
    assert "crm_lang=zh" in switched.headers["set-cookie"]
    again = await client.get("/ui/sign-in", headers={"Accept-Language": "de-DE"})
    assert '<html lang="zh-Hans">' in again.text
    assert "<title>登录 · " in again.text


async def test_the_switch_never_sends_the_browser_elsewhere() -> None:
    client = _client("development")
    page = (await client.get("/ui/sign-in")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    for target in ("https://elsewhere.example.com/", "//elsewhere.example.com", "/api/v1/me"):
        answer = await client.post(
            "/ui/language", data={"csrf_token": token.group(1), "language": "de", "next": target}
        )
        assert answer.headers["location"] == "/ui/"


def test_production_refuses_the_placeholder_session_secret() -> None:
    with pytest.raises(ValueError, match="CRM_INTAKE_SESSION_SECRET"):
        IntakeSettings(
            _env_file=None,  # type: ignore[call-arg]
            env="production",
            api_token_secret="a-real-token-secret-for-tests",
        )
