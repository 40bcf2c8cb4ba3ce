"""Container HEALTHCHECK: exit 0 when this service answers /healthz (stdlib only)."""

import os
import sys
import urllib.request

DEFAULT_PORTS = {"intake": 8000, "followup": 8001, "notification": 8002, "webhooks": 8003}


def main() -> int:
    service = os.environ.get("CRM_SERVICE", "")
    if service not in DEFAULT_PORTS:
        print(f"unknown CRM_SERVICE {service!r}", file=sys.stderr)
        return 1
    # The same variable the service reads, so a changed port is checked where it listens.
    port = os.environ.get(f"CRM_{service.upper()}_PORT", str(DEFAULT_PORTS[service]))
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
