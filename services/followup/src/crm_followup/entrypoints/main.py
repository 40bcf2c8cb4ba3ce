"""`crm-followup`: run the followup service until SIGTERM/SIGINT."""

import sys

from crm_followup.bootstrap import bootstrap
from crm_followup.rules.loader import RulesError
from crm_followup.settings import SERVICE, FollowupSettings
from crm_shared.observability.logging import configure_logging
from crm_shared.runtime import serve
from crm_shared.settings import load_settings


def main() -> None:
    settings = load_settings(FollowupSettings)
    configure_logging(service=SERVICE, level=settings.log_level, json=settings.log_json)
    try:
        app = bootstrap(settings)
    except RulesError as error:
        print(f"CRM_FOLLOWUP_RULES_FILE: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    serve(app, host=settings.http_host, port=settings.followup_port, settings=settings)


if __name__ == "__main__":
    main()
