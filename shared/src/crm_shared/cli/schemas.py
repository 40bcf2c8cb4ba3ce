"""`crm-schemas write|check [--dir docs/schemas]`: the committed event JSON Schemas."""

import argparse
import sys
from pathlib import Path

from crm_shared.contracts.schemas import stale_schemas, write_schemas

DEFAULT_DIR = Path("docs/schemas")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crm-schemas", description=__doc__)
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    if args.command == "write":
        written = write_schemas(args.dir)
        print(f"{len(written)} schema files written to {args.dir}")
        return
    problems = stale_schemas(args.dir)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(f"crm-schemas: {args.dir} is stale; run `crm-schemas write` and commit")
    print(f"{args.dir}: up to date")


if __name__ == "__main__":
    main()
