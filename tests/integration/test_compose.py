"""docker-compose.yml is valid for the compose CLI, and .env.example documents every setting.

`docker compose config` needs only the client, no engine. Where the compose plugin is
missing, Debian's `docker-compose` (which .ci/run installs) does the same validation.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SERVICES = {
    "kafka",
    "mongo",
    "mongo-init",
    "mailpit",
    "topics",
    "intake",
    "followup",
    "notification",
    "webhooks",
}


def _compose_command() -> list[str]:
    if shutil.which("docker") is None:
        pytest.skip("the docker client is not installed")
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("no compose CLI: neither the `docker compose` plugin nor docker-compose")


def _required() -> dict[str, str]:
    """The variables the file demands (`${NAME:?message}`), with stand-in values."""
    names = re.findall(r"\$\{(CRM_[A-Z0-9_]+):\?", COMPOSE_FILE.read_text())
    # Only for `config`: nothing is started with these.
    return {name: f"https://compose-test.invalid/{name.lower()}" for name in names}


def _config(*args: str, without: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update({k: v for k, v in _required().items() if k != without})
    compose = _compose_command()
    # An empty env file (not /dev/null: docker-compose wants a regular file), so that a
    # developer's .env cannot change what is checked.
    with tempfile.NamedTemporaryFile(suffix=".env") as empty:
        return subprocess.run(
            [*compose, "--env-file", empty.name, "-f", str(COMPOSE_FILE), "config", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=60,
            check=False,
        )


@pytest.mark.docker
def test_compose_file_is_valid() -> None:
    result = _config("-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.docker
def test_compose_defines_the_whole_stack() -> None:
    result = _config("--services")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == SERVICES


@pytest.mark.docker
def test_compose_refuses_to_run_without_its_secrets() -> None:
    assert "CRM_API_TOKEN_SECRET" in _required()
    for name in _required():
        result = _config("-q", without=name)
        assert result.returncode != 0, name
        assert name in result.stderr


def _documented() -> set[str]:
    return set(re.findall(r"^#?\s*(CRM_[A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


def _settings_classes() -> list[type[BaseSettings]]:
    from crm_followup.settings import FollowupSettings
    from crm_intake.settings import IntakeSettings
    from crm_notification.settings import NotificationSettings
    from crm_webhooks.settings import WebhooksSettings

    return [IntakeSettings, FollowupSettings, NotificationSettings, WebhooksSettings]


def _settings() -> set[str]:
    return {f"CRM_{name.upper()}" for cls in _settings_classes() for name in cls.model_fields}


def _in_compose() -> set[str]:
    return set(re.findall(r"\b(CRM_[A-Z0-9_]+)\b", COMPOSE_FILE.read_text()))


def test_env_example_documents_every_service_setting() -> None:
    missing = sorted(_settings() - _documented())
    assert not missing, f"add to .env.example: {missing}"


def test_env_example_documents_only_real_settings() -> None:
    # Settings of the local stack and the tests, read by crm_devstack and tests/infra.py.
    tooling = {
        "CRM_DEVSTACK_CACHE",
        "CRM_TEST_INFRA",
        "CRM_TEST_KAFKA_IMAGE",
        "CRM_TEST_MONGO_IMAGE",
    }
    stale = sorted(_documented() - _settings() - tooling)
    assert not stale, f"no service reads these any more; update .env.example: {stale}"


def test_compose_sets_only_real_settings() -> None:
    unknown = sorted(_in_compose() - _settings())
    assert not unknown, f"docker-compose.yml sets settings no service reads: {unknown}"


def test_env_example_values_are_valid_and_equal_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in os.environ:
        if name.startswith("CRM_"):
            monkeypatch.delenv(name)
    for cls in _settings_classes():
        from_example = cls(_env_file=ENV_EXAMPLE)
        defaults = cls(_env_file=None)
        assert from_example.model_dump() == defaults.model_dump(), cls.__name__
