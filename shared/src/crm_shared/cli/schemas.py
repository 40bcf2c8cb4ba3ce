"""`crm-schemas write|check|compat|asyncapi|release`: the committed event contract.

write      regenerate docs/schemas/*.json and docs/asyncapi.json from the code
check      fail if they are stale or the code breaks the last released schemas
compat     only the compatibility check against the last release
asyncapi   print the AsyncAPI document
release N  snapshot the current schemas as docs/schemas/released/vN
"""

import argparse
import shutil
import sys
from pathlib import Path

from crm_shared.contracts.asyncapi import render_asyncapi, stale_asyncapi, write_asyncapi
from crm_shared.contracts.compatibility import compare_releases, latest_release, load_schemas
from crm_shared.contracts.schemas import current_schemas, stale_schemas, write_schemas

DEFAULT_DIR = Path("docs/schemas")
DEFAULT_ASYNCAPI = Path("docs/asyncapi.json")
RELEASED = "released"


def _breaking_changes(schema_dir: Path) -> tuple[Path | None, list[str]]:
    release = latest_release(schema_dir / RELEASED)
    if release is None:
        return None, []
    return release, [str(b) for b in compare_releases(load_schemas(release), current_schemas())]


def _check(args: argparse.Namespace, *, stale: bool) -> None:
    problems = (stale_schemas(args.dir) + stale_asyncapi(args.asyncapi)) if stale else []
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit("crm-schemas: the committed contract is stale; run `crm-schemas write` and commit")
    release, breaking = _breaking_changes(args.dir)
    if breaking:
        print("\n".join(breaking), file=sys.stderr)
        sys.exit(
            f"crm-schemas: {len(breaking)} breaking change(s) against {release}; within a major "
            "version add optional fields only, or publish a new type version (`.v2`)"
        )
    against = f"compatible with {release}" if release else "no released schemas to compare with"
    print(f"{args.dir} and {args.asyncapi}: up to date; {against}" if stale else against)


def _release(args: argparse.Namespace) -> None:
    target = args.dir / RELEASED / args.name
    if target.exists():
        sys.exit(f"crm-schemas: {target} exists; a release is never rewritten")
    if stale_schemas(args.dir):
        sys.exit("crm-schemas: run `crm-schemas write` first; only committed schemas are released")
    target.mkdir(parents=True)
    for path in sorted(args.dir.glob("warmyang.*.json")):
        shutil.copyfile(path, target / path.name)
    print(f"released {len(list(target.iterdir()))} schemas as {target}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="crm-schemas", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["write", "check", "compat", "asyncapi", "release"])
    parser.add_argument("name", nargs="?", help="release name, e.g. v2 (release only)")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="schema directory")
    parser.add_argument("--asyncapi", type=Path, default=DEFAULT_ASYNCAPI, help="AsyncAPI file")
    args = parser.parse_args(argv)
    if args.command == "write":
        written = write_schemas(args.dir)
        changed = write_asyncapi(args.asyncapi)
        print(f"{len(written)} schema files written to {args.dir}")
        print(f"{args.asyncapi}: {'written' if changed else 'unchanged'}")
    elif args.command == "asyncapi":
        sys.stdout.write(render_asyncapi())
    elif args.command == "release":
        if not args.name or not args.name.startswith("v") or not args.name[1:].isdigit():
            parser.error("release needs a name like v2")
        _release(args)
    else:
        _check(args, stale=args.command == "check")


if __name__ == "__main__":
    main()
