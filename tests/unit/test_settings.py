"""Settings: `CRM_*` variables, and a clear stop when one is missing or wrong."""

import pytest

from crm_notification.settings import NotificationSettings
from crm_shared.settings import ServiceSettings, load_settings

pytestmark = pytest.mark.unit


def test_defaults_serve_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    settings = NotificationSettings(_env_file=None)
    assert settings.kafka_servers == ["127.0.0.1:9092"]
    assert settings.notification_port == 8002
    assert settings.smtp_port == 1025


def test_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KAFKA_BOOTSTRAP_SERVERS", "k1:9092, k2:9092")
    monkeypatch.setenv("CRM_NOTIFICATION_PORT", "9002")
    settings = NotificationSettings(_env_file=None)
    assert settings.kafka_servers == ["k1:9092", "k2:9092"]
    assert settings.notification_port == 9002


def test_bad_settings_stop_with_each_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRM_MONGO_URI", "postgres://db")
    monkeypatch.setenv("CRM_NOTIFICATION_PORT", "seventy")
    with pytest.raises(SystemExit) as stopped:
        load_settings(NotificationSettings)
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert "CRM_MONGO_URI" in message
    assert "CRM_NOTIFICATION_PORT" in message


def test_production_refuses_the_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_ENV", "production")
    monkeypatch.delenv("CRM_API_TOKEN_SECRET", raising=False)
    with pytest.raises(ValueError, match="CRM_API_TOKEN_SECRET"):
        ServiceSettings(_env_file=None)
