"""The committed catalogues are complete and current: every UI string in German and Chinese."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from crm_intake.entrypoints.web.i18n import LOCALES_DIR, catalogue_path

pytestmark = pytest.mark.unit

INTAKE = Path(__file__).resolve().parents[3] / "services" / "intake"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _messages(path: Path) -> dict[str, str]:
    with path.open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id}


@pytest.mark.parametrize("language", ["de", "zh"])
def test_every_message_is_translated_and_not_fuzzy(language: str) -> None:
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po)
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert not catalogue.obsolete, "delete the #~ obsolete entries"


@pytest.mark.parametrize("language", ["de", "zh"])
def test_translations_keep_the_placeholders(language: str) -> None:
    for msgid, msgstr in _messages(catalogue_path(language)).items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


@pytest.mark.parametrize("language", ["de", "zh"])
def test_each_catalogue_has_every_message_of_the_template(language: str) -> None:
    assert set(_messages(catalogue_path(language))) == set(_messages(LOCALES_DIR / "messages.pot"))


def test_the_template_holds_what_the_code_and_pages_say(tmp_path: Path) -> None:
    """Run the same extraction a developer runs; a new string must be in the catalogues."""
    fresh = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-o", str(fresh), "--no-location", "."],
        cwd=INTAKE,
        check=True,
    )
    assert set(_messages(fresh)) == set(_messages(LOCALES_DIR / "messages.pot")), (
        "UI strings changed: re-extract and translate (see crm_intake/locales/README.md)"
    )
