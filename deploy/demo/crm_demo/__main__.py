"""`python -m crm_demo [--url URL] [--token TOKEN]`: load the demo firms into a running intake.

Talks only HTTP. The token defaults to `CRM_BOOTSTRAP_ADMIN_TOKEN`; the account managers the
firms name must exist as staff users first (`python -m crm_demo.staff`, which `make demo`
runs before this).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence

import httpx

from .data import FIRMS, STAGES
from .loader import DemoError, DemoLoader, Outcome

DEFAULT_URL = "http://127.0.0.1:8000"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="crm_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("CRM_DEMO_URL") or DEFAULT_URL,
                        help=f"intake's base URL (default {DEFAULT_URL})")  # fmt: skip
    parser.add_argument("--token", default=os.environ.get("CRM_BOOTSTRAP_ADMIN_TOKEN"),
                        help="API bearer token (default: $CRM_BOOTSTRAP_ADMIN_TOKEN)")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("no token: pass --token or set CRM_BOOTSTRAP_ADMIN_TOKEN")
    return args


def _line(outcome: Outcome) -> str:
    firm = outcome.firm
    mark = "+" if outcome.created else "="
    what = "new" if outcome.created else "already there"
    changes = [f"{n} contact(s)" for n in [outcome.contacts_added] if n]
    changes += [f"{n} interaction(s)" for n in [outcome.interactions_logged] if n]
    changes += [f"moved to {' → '.join(outcome.moves)}"] if outcome.moves else []
    status = "" if outcome.status == "active" else f" ({outcome.status})"
    detail = ", ".join(changes) if changes else what
    return (
        f"  {mark} {firm.name + ' (' + firm.country + ')':<44} {outcome.stage + status:<34}"
        f" {outcome.enterprise_id}  {detail}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {args.token}"}
    outcomes: list[Outcome] = []
    with httpx.Client(base_url=args.url, headers=headers, timeout=60) as http:
        loader = DemoLoader(http)
        try:
            who = loader.check_access()
        except httpx.TransportError as error:
            print(f"error: cannot reach intake at {args.url} ({error}); is `make run` up?",
                  file=sys.stderr)  # fmt: skip
            return 2
        except DemoError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"Loading {len(FIRMS)} demo firms into {args.url} as {who}:")
        failed = 0
        for firm in FIRMS:
            try:
                outcome = loader.load(firm)
            except DemoError as error:
                failed += 1
                print(f"  ! {firm.name}: {error}", file=sys.stderr)
                if "no active staff user" in str(error):
                    print("    (create the demo staff users first: python -m crm_demo.staff)",
                          file=sys.stderr)  # fmt: skip
                continue
            outcomes.append(outcome)
            print(_line(outcome), flush=True)
    by_stage = Counter(o.stage for o in outcomes)
    new = sum(o.created for o in outcomes)
    print(
        f"{len(outcomes)} firms ({new} new), {sum(o.contacts_added for o in outcomes)} contacts "
        f"and {sum(o.interactions_logged for o in outcomes)} interactions added "
        f"in {time.monotonic() - started:.1f} s."
    )
    print("By stage: " + ", ".join(f"{stage} {by_stage[stage]}" for stage in STAGES))
    print(f"See them at {args.url.rstrip('/')}/ui . The emails they cause reach the dev inbox")
    print("in each recipient's business hours (Mon-Fri 09:00-17:00 local time, holidays")
    print("skipped); to see them at once, start the stack with CRM_FOLLOWUP_BUSINESS_HOURS=off.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
