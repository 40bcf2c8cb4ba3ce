"""One intake app per test module, in process (httpx ASGI transport), on the session's
real Kafka and MongoDB; a signed-in browser-like client per staff user."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from crm_intake.bootstrap import bootstrap
from crm_intake.service import staff
from crm_intake.service.context import IntakeContext
from crm_intake.settings import IntakeSettings
from support import unique

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# Module scope: its consumers join intake's consumer group, which the browser test's intake
# process must have to itself while it runs.
@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def web_app(
    kafka_bootstrap: str, mongo_uri: str, kafka_topics: list[str]
) -> AsyncIterator[FastAPI]:
    settings = IntakeSettings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_uri=mongo_uri,
        intake_database=unique("t_web").replace("-", "_"),
        intake_dormant_after_days=0,
        outbox_poll_seconds=0.05,
        log_json=False,
    )
    app = bootstrap(settings)
    async with app.router.lifespan_context(app):
        yield app
        await app.state.intake.db.client.drop_database(app.state.intake.db.name)


@pytest.fixture(scope="module")
def web_ctx(web_app: FastAPI) -> IntakeContext:
    return web_app.state.intake


class Browser:
    """A client that keeps cookies like a browser and sends forms with their CSRF token."""

    def __init__(self, app: FastAPI, language: str = "en") -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://intake.test",
            headers={"Accept-Language": language},
        )

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def token(self, path: str = "/ui/sign-in") -> str:
        found = CSRF.search((await self.http.get(path)).text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    async def submit(
        self, path: str, data: dict[str, Any], *, form_page: str | None = None
    ) -> httpx.Response:
        """POST `data` as the form on `form_page` (default: `path`) would, with its token."""
        token = await self.token(form_page or path)
        return await self.http.post(path, data={"csrf_token": token, **data})

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.submit("/ui/sign-in", {"username": username, "password": password})

    async def aclose(self) -> None:
        await self.http.aclose()


StaffFactory = Callable[[str], Awaitable[str]]


@pytest_asyncio.fixture(loop_scope="session")
async def new_staff(web_ctx: IntakeContext) -> StaffFactory:
    """Creates a staff user with the given role; returns the user name."""

    async def create(role: str, language: str = "en") -> str:
        username = f"{role}.{uuid.uuid4().hex[:8]}"
        await staff.create_user(
            web_ctx,
            {
                "username": username,
                "role": role,
                "display_name": f"Test {role}",
                "password": PASSWORD,
                "language": language,
            },
        )
        return username

    return create  # type: ignore[return-value]


@pytest_asyncio.fixture(loop_scope="session")
async def browsers(web_app: FastAPI) -> AsyncIterator[Callable[..., Browser]]:
    opened: list[Browser] = []

    def open_browser(language: str = "en") -> Browser:
        browser = Browser(web_app, language)
        opened.append(browser)
        return browser

    yield open_browser
    for browser in opened:
        await browser.aclose()


async def signed_in(
    browsers: Callable[..., Browser], new_staff: Any, role: str, language: str = "en"
) -> tuple[Browser, str]:
    username = await new_staff(role, language)
    browser = browsers(language)
    answer = await browser.sign_in(username)
    assert answer.status_code == 303, answer.text
    return browser, username
