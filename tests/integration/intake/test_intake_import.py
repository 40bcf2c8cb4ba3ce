"""`crm-intake-import` on a sample spreadsheet with bad rows: a per-row report, and a second
run that creates nothing new."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from crm_shared.mongo.outbox import Outbox
from support import unique

pytestmark = [pytest.mark.integration]

SAMPLE = Path(__file__).parent / "data" / "intake_import_sample.csv"
EXPECTED = {
    2: ("created", ""),
    3: ("merged", "contact added"),
    4: ("created", ""),
    5: ("rejected", "country: "),
    6: ("rejected", "name: "),
    7: ("rejected", "credit_code: checksum mismatch"),
    8: ("created", ""),
    9: ("created", ""),
    10: ("merged", "filled"),
    11: ("rejected", "contact_email/contact_phone: a contact needs an email or a phone"),
    12: ("rejected", "source: "),
    13: ("rejected", "owner: no active staff user"),
}


@pytest_asyncio.fixture(loop_scope="session")
async def database(mongo_uri: str) -> AsyncIterator[tuple[AsyncMongoClient, str]]:
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri)
    name = unique("t_import").replace("-", "_")
    yield client, name
    await client.drop_database(name)
    await client.close()


def _import(mongo_uri: str, database: str, report: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_intake.entrypoints.cli.importer",
            str(SAMPLE),
            "--report",
            str(report),
            "--actor",
            "migration",
        ],
        env={
            **os.environ,
            "CRM_MONGO_URI": mongo_uri,
            "CRM_INTAKE_DATABASE": database,
            "COLUMNS": "200",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _report(path: Path) -> dict[int, dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return {int(row["line"]): row for row in csv.DictReader(handle)}


async def test_import_reports_each_row_and_a_second_run_adds_nothing(
    mongo_uri: str, database: tuple[AsyncMongoClient, str], tmp_path: Path
) -> None:
    client, name = database
    first = _import(mongo_uri, name, tmp_path / "first.csv")
    assert first.returncode == 1, first.stderr  # some rows were rejected
    assert "4 created, 2 merged, 6 rejected" in first.stdout
    report = _report(tmp_path / "first.csv")
    for line, (outcome, detail) in EXPECTED.items():
        assert report[line]["outcome"] == outcome, report[line]
        assert detail in report[line]["detail"], report[line]
    assert "contact_email: " in report[5]["detail"]
    assert report[3]["enterprise_id"] == report[2]["enterprise_id"]
    assert report[10]["enterprise_id"] == report[9]["enterprise_id"]
    assert "website" in report[10]["detail"]

    db = client[name]
    firms = await db.enterprises.count_documents({})
    people = await db.contacts.count_documents({})
    assert (firms, people) == (4, 5)
    brueckner = await db.enterprises.find_one({"_id": report[2]["enterprise_id"]})
    assert brueckner["created_by"] == "import:migration"
    phone_only = await db.contacts.find_one({"full_name": "Lukas Gruber"})
    assert phone_only["phone"] == "+436641234567"  # read as an Austrian number
    created_events = await Outbox(db).events(type="warmyang.enterprise.created.v1")
    assert len(created_events) == 4  # waiting for the service's relay

    second = _import(mongo_uri, name, tmp_path / "second.csv")
    assert "0 created, 6 merged, 6 rejected" in second.stdout, second.stdout
    again = _report(tmp_path / "second.csv")
    assert all(again[line]["detail"].endswith("nothing new") for line in (2, 3, 4, 8, 9, 10))
    assert await db.enterprises.count_documents({}) == firms
    assert await db.contacts.count_documents({}) == people


def test_a_missing_file_or_header_is_a_clear_error(tmp_path: Path, mongo_uri: str) -> None:
    missing = _import(mongo_uri, "t_unused", tmp_path / "r.csv")
    assert missing.returncode == 1
    headerless = tmp_path / "headerless.csv"
    headerless.write_text("Müller GmbH,DE,forum\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "crm_intake.entrypoints.cli.importer", str(headerless)],
        env={**os.environ, "CRM_MONGO_URI": mongo_uri},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "header row must name the columns" in result.stderr
    absent = subprocess.run(
        [sys.executable, "-m", "crm_intake.entrypoints.cli.importer", str(tmp_path / "none.csv")],
        env={**os.environ, "CRM_MONGO_URI": mongo_uri},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert absent.returncode == 1
    assert "no such file" in absent.stderr
