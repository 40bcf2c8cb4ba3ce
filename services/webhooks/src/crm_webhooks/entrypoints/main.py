"""`crm-webhooks`: run the webhook relay until SIGTERM/SIGINT."""

from crm_shared.observability.logging import configure_logging
from crm_shared.runtime import serve
from crm_shared.settings import load_settings
from crm_webhooks.bootstrap import bootstrap
from crm_webhooks.settings import SERVICE, WebhooksSettings


def main() -> None:
    settings = load_settings(WebhooksSettings)
    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    serve(
        bootstrap(settings), host=settings.http_host, port=settings.webhooks_port, settings=settings
    )


if __name__ == "__main__":
    main()
