"""`crm-intake-import FILE`: load a spreadsheet (CSV) of firms and contacts.

It calls the service layer directly (no HTTP, no token): the same validation,
duplicate detection and transactions as the API, and the events wait in the outbox
until the running intake service publishes them, so the import needs only MongoDB.
Exit status: 0 if every row was created or merged, 1 if any was rejected.
"""

import argparse
import csv
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from crm_intake.entrypoints.cli.common import fail, run_with_context
from crm_intake.service.context import Actor, IntakeContext
from crm_intake.service.importing import COLUMNS, REJECTED, RowOutcome, import_row
from crm_shared.auth.tokens import Role


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm-intake-import", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "file", type=Path, help=f"CSV with a header row; columns: {', '.join(COLUMNS)}"
    )
    parser.add_argument("--actor", default="import", help="recorded as who made the changes")
    parser.add_argument("--report", type=Path, help="also write the per-row report to this CSV")
    parser.add_argument("--delimiter", default=",", help="cell separator (default ,)")
    return parser


def read_rows(path: Path, delimiter: str) -> list[dict[str, str | None]]:
    if not path.is_file():
        fail(f"{path}: no such file")
    # utf-8-sig: spreadsheets saved as CSV often start with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        headers = {h.strip().lower() for h in reader.fieldnames or []}
        if "name" not in headers:
            fail(
                f"{path}: the header row must name the columns (at least `name`); "
                f"got {sorted(headers)}"
            )
        unknown = headers - set(COLUMNS)
        if unknown:
            print(f"warning: ignoring unknown columns {sorted(unknown)}", file=sys.stderr)
        return list(reader)


async def import_rows(
    ctx: IntakeContext, rows: list[dict[str, str | None]], actor: Actor, console: Console
) -> list[RowOutcome]:
    outcomes = []
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("rows", total=len(rows))
        for index, row in enumerate(rows):
            outcomes.append(await import_row(ctx, index + 2, row, actor))  # line 1 is the header
            progress.advance(task)
    return outcomes


def show_report(outcomes: list[RowOutcome], console: Console) -> None:
    table = Table(title="import report")
    for column in ("line", "outcome", "enterprise", "detail"):
        table.add_column(column)
    styles = {"created": "green", "merged": "cyan", "rejected": "red"}
    for o in outcomes:
        detail = o.detail if not o.problems else "; ".join(o.problems)
        table.add_row(
            str(o.row), f"[{styles[o.outcome]}]{o.outcome}", o.enterprise_id or "", detail
        )
    console.print(table)
    counts = Counter(o.outcome for o in outcomes)
    console.print(", ".join(f"{counts.get(k, 0)} {k}" for k in ("created", "merged", "rejected")))


def write_report(path: Path, outcomes: list[RowOutcome]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "outcome", "enterprise_id", "detail"])
        for o in outcomes:
            writer.writerow(
                [o.row, o.outcome, o.enterprise_id or "", "; ".join(o.problems) or o.detail]
            )


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    rows = read_rows(args.file, args.delimiter)
    console = Console(stderr=False)
    actor = Actor(f"import:{args.actor}", Role.OFFICER)
    outcomes = run_with_context(lambda ctx: import_rows(ctx, rows, actor, console))
    show_report(outcomes, console)
    if args.report:
        write_report(args.report, outcomes)
    raise SystemExit(1 if any(o.outcome == REJECTED for o in outcomes) else 0)


if __name__ == "__main__":
    main()
