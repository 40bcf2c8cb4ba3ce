"""A desk officer's day in a real browser, against the real stack as processes.

intake, followup and notification run as subprocesses on free ports, on the session's Kafka,
MongoDB and SMTP sink. Chromium (Debian's, driven by Playwright) signs in, switches to
German, logs a first contact, meets the duplicate warning, qualifies the firm, logs a
meeting, moves it to `engaged`, sees the welcome email on the timeline, and switches to
Chinese. Screenshots go to the test's tmp dir, and to docs/screenshots/ with
CRM_SAVE_SCREENSHOTS=1 (how the README's pictures are made).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from crm_devstack import SmtpSink
from support import unique, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_TOKEN = "browser-test-bootstrap-admin-token"
PASSWORD = "correct horse battery staple"
REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "docs" / "screenshots"
# The welcome email crosses three services and two Kafka hops; in a full test run the
# followup process may first work through the session's earlier events.
EMAIL_TIMEOUT = 180

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.usefixtures("kafka_topics"),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
    pytest.mark.timeout(600),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass
class Stack:
    intake: Service
    others: dict[str, Service]  # the ones that became ready
    failed: dict[str, str]  # the ones that did not, with their last output
    env: dict[str, str]


async def _ready(service: Service, timeout: float) -> bool:
    async with httpx.AsyncClient(timeout=3) as http:

        async def answers() -> bool:
            if service.process.poll() is not None:
                return True
            try:
                return (await http.get(f"{service.url}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await wait_until(answers, timeout=timeout, interval=0.3)
        except TimeoutError:
            return False
    return service.process.poll() is None


def _start(name: str, env: dict[str, str], logs: Path) -> Service:
    port = _free_port()
    log = logs / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", f"crm_{name}.entrypoints.main"],
        env={**env, f"CRM_{name.upper()}_PORT": str(port)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return Service(name, port, process, log)


def _stop(service: Service) -> None:
    if service.process.poll() is None:
        service.process.send_signal(signal.SIGTERM)
        try:
            service.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(
    kafka_bootstrap: str,
    mongo_uri: str,
    smtp_sink: SmtpSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    logs = tmp_path_factory.mktemp("stack")
    suffix = unique("web").replace("-", "_")
    env = {
        **os.environ,
        "CRM_ENV": "test",
        "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CRM_MONGO_URI": mongo_uri,
        "CRM_BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "CRM_OUTBOX_POLL_SECONDS": "0.05",
        "CRM_INTAKE_DATABASE": f"t_intake_{suffix}",
        "CRM_INTAKE_DORMANT_AFTER_DAYS": "0",
        "CRM_FOLLOWUP_DATABASE": f"t_followup_{suffix}",
        "CRM_FOLLOWUP_BUSINESS_HOURS": "off",
        "CRM_FOLLOWUP_DISPATCH_POLL_SECONDS": "0.2",
        "CRM_NOTIFICATION_DATABASE": f"t_notification_{suffix}",
        "CRM_SMTP_HOST": "127.0.0.1",
        "CRM_SMTP_PORT": str(smtp_sink.port),
    }
    services = {name: _start(name, env, logs) for name in ("intake", "followup", "notification")}
    try:
        ready = dict(
            zip(
                services,
                await asyncio.gather(*(_ready(s, timeout=120) for s in services.values())),
                strict=True,
            )
        )
        assert ready["intake"], f"intake did not start:\n{services['intake'].output()}"
        yield Stack(
            intake=services["intake"],
            others={n: s for n, s in services.items() if n != "intake" and ready[n]},
            failed={n: s.output() for n, s in services.items() if not ready[n]},
            env=env,
        )
    finally:
        for service in services.values():
            _stop(service)


def _create_user(stack: Stack, username: str, role: str, language: str = "en") -> None:
    """Through intake's admin CLI, as an operator would."""
    done = subprocess.run(
        [sys.executable, "-m", "crm_intake.entrypoints.cli.admin", "create-user", username,
         "--role", role, "--name", username.replace(".", " ").title(),
         "--language", language, "--password-stdin"],
        input=f"{PASSWORD}\n",
        env=stack.env,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.publish = os.environ.get("CRM_SAVE_SCREENSHOTS") == "1"

    async def take(self, page: object, name: str) -> None:
        path = self.folder / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        if self.publish:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, SCREENSHOTS / path.name)


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    return Shots(tmp_path)


async def test_an_officers_day_in_german_then_chinese(
    stack: Stack, smtp_sink: SmtpSink, shots: Shots
) -> None:
    from playwright.async_api import async_playwright, expect

    manager = f"anna.{unique('m').split('-')[1][:6]}"
    officer = f"li.{unique('o').split('-')[1][:6]}"
    _create_user(stack, manager, "manager", "de")
    _create_user(stack, officer, "officer", "en")
    stem = f"Müller{unique('x').split('-')[1][:5]}"
    firm_name = f"{stem} Präzisionstechnik GmbH"
    local_name = f"穆勒{stem[-5:]}精密技术（上海）有限公司"
    contact_email = f"{unique('anna.schmidt')}@example.com"
    base = stack.intake.url

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        try:
            # Sign in (English, from the browser's language); the skip link comes first.
            await page.goto(f"{base}/ui/")
            await expect(page).to_have_title("Sign in · Warm Yang CRM")
            await page.keyboard.press("Tab")
            await expect(page.locator(".skip-link")).to_be_focused()
            await shots.take(page, "sign-in")
            await page.get_by_label("User name").fill(officer)
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page).to_have_title("Dashboard · Warm Yang CRM")

            # Switch to German.
            await page.get_by_label("Language").select_option("de")
            await page.get_by_role("button", name="Switch").click()
            await expect(page.locator("html")).to_have_attribute("lang", "de")
            await expect(page).to_have_title("Übersicht · Warm Yang CRM")

            # Log a first contact; a mistake first, kept as typed.
            await page.get_by_role("link", name="Erstkontakt erfassen").click()
            await page.get_by_label("Name des Unternehmens").fill(firm_name)
            await page.get_by_label("Chinesischer Name").fill(local_name)
            await page.get_by_label("Herkunftsland").select_option("DE")
            await page.get_by_label("Wie das Unternehmen zu uns kam").select_option("forum")
            await page.get_by_label("Vollständiger Name").fill("Anna Schmidt")
            await page.get_by_label("E-Mail", exact=True).fill("anna-at-example")
            await page.get_by_label("Bevorzugte Sprache für E-Mails").select_option("de")
            await page.get_by_label("Zeitzone").fill("Europe/Berlin")
            await page.get_by_label("Ist mit E-Mails des Servicedesks einverstanden").check()
            await page.get_by_role("button", name="Erstkontakt erfassen").click()
            await expect(page.locator("#f-primary_contact-email-error")).to_have_text(
                "Bitte eine gültige E-Mail-Adresse angeben."
            )
            await expect(page.get_by_label("Chinesischer Name")).to_have_value(local_name)
            await expect(page.locator(".error-summary")).to_be_focused()
            await shots.take(page, "first-contact-errors-de")
            await page.get_by_label("E-Mail", exact=True).fill(contact_email)
            await page.get_by_role("button", name="Erstkontakt erfassen").click()
            await expect(page.locator(".flash")).to_have_text("Erstkontakt erfasst.")
            await expect(page.get_by_role("heading", level=1)).to_contain_text(local_name)
            firm_url = page.url

            # A second, similar firm: the desk is warned and shown the first one.
            await page.get_by_role("link", name="Erstkontakt erfassen").click()
            await page.get_by_label("Name des Unternehmens").fill(
                f"{stem.replace('ü', 'ue')} Praezisionstechnik AG"
            )
            await page.get_by_label("Herkunftsland").select_option("DE")
            await page.get_by_label("Wie das Unternehmen zu uns kam").select_option("event")
            await page.get_by_label("Vollständiger Name").fill("Jens Weber")
            await page.get_by_label("Telefon").fill("+49 30 1234567")
            await page.get_by_role("button", name="Erstkontakt erfassen").click()
            warning = page.get_by_role("alert").filter(
                has_text="Dieses Unternehmen ist möglicherweise schon erfasst"
            )
            await expect(warning).to_be_visible()
            await expect(warning.get_by_role("link", name=firm_name)).to_be_visible()
            await expect(page.get_by_role("button", name="Trotzdem anlegen")).to_be_visible()
            await shots.take(page, "duplicate-warning-de")

            # Qualify the firm (sector, a need, an account manager).
            await page.goto(firm_url)
            await page.get_by_role("link", name="Angaben bearbeiten").click()
            await page.get_by_label("Branche").fill("Maschinenbau")
            await page.get_by_label("Fachkräfte").check()
            await page.get_by_label("Kundenbetreuer").fill(manager)
            await page.get_by_role("button", name="Speichern").click()
            await expect(page.locator(".flash")).to_have_text("Unternehmensangaben gespeichert.")

            # Log a meeting.
            await page.get_by_role("link", name="Austausch erfassen").click()
            await page.get_by_label("Art").select_option("meeting")
            await page.get_by_label("Zusammenfassung").fill("Erstgespräch im Innovationszentrum")
            await page.get_by_label("Anna Schmidt").check()
            await page.get_by_role("button", name="Austausch erfassen").click()
            await expect(page.locator(".flash")).to_have_text("Austausch erfasst.")

            # Move to engaged; the form shows the next stage's requirements as met.
            await page.get_by_role("link", name="Phase wechseln").click()
            await expect(page.locator("html")).to_have_attribute("lang", "de")
            await shots.take(page, "move-stage-de")
            await page.get_by_label("Wechseln zu").select_option("engaged")
            await page.get_by_role("button", name="Phase wechseln").click()
            await expect(page.locator(".badge.stage")).to_have_text("Phase: In Zusammenarbeit")
            timeline = page.locator(".timeline")
            await expect(timeline).to_contain_text("Phase Erstkontakt → In Zusammenarbeit")
            await expect(timeline).to_contain_text("Besprechung erfasst")
            await expect(timeline).to_contain_text("Unternehmensangaben geändert")

            # The welcome email, once followup and notification have done their part.
            email_on_timeline = "E-Mail gesendet: Willkommens-E-Mail"
            if {"followup", "notification"} <= stack.others.keys():

                async def welcome_shown() -> bool:
                    await page.reload()
                    return email_on_timeline in await timeline.inner_text()

                await wait_until(welcome_shown, timeout=EMAIL_TIMEOUT, interval=1)
                sent = [m for m in smtp_sink.messages() if contact_email in str(m["To"])]
                assert sent
                assert sent[0]["Content-Language"] == "de"
                await expect(timeline).to_contain_text("Nachfassaktion geplant: Willkommens-E-Mail")
            else:
                pytest.fail(f"followup/notification did not start: {stack.failed}")
            await shots.take(page, "firm-de")

            # Chinese, from the switch on this page.
            await page.get_by_label("Sprache").select_option("zh")
            await page.get_by_role("button", name="Wechseln").click()
            await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
            await expect(page.locator(".badge.stage")).to_have_text("阶段：合作中")
            await expect(timeline).to_contain_text("邮件已发送：欢迎邮件")
            await expect(page.get_by_role("heading", level=1)).to_contain_text(local_name)
            await shots.take(page, "firm-zh")
            await page.get_by_role("link", name="概览").click()
            await expect(page).to_have_title("概览 · Warm Yang CRM")
            await shots.take(page, "dashboard-zh")
            await page.get_by_role("link", name="企业", exact=True).click()
            await page.get_by_label("名称中有以此开头的词").fill(stem[:6])
            await page.get_by_role("button", name="搜索").click()
            await expect(page.get_by_role("link", name=firm_name)).to_be_visible()
            await shots.take(page, "firm-list-zh")
        finally:
            await context.close()
            await browser.close()
