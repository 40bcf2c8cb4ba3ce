"""`crm-notification`: run the notification service until SIGTERM/SIGINT."""

from crm_notification.bootstrap import bootstrap
from crm_notification.settings import SERVICE, NotificationSettings
from crm_shared.observability.logging import configure_logging
from crm_shared.runtime import serve
from crm_shared.settings import load_settings


def main() -> None:
    settings = load_settings(NotificationSettings)
    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    serve(
        bootstrap(settings),
        host=settings.http_host,
        port=settings.notification_port,
        settings=settings,
    )


if __name__ == "__main__":
    main()
