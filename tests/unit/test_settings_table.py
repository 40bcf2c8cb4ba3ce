"""The README documents every setting, as the code defines it."""

import pytest
from settings_table import current, render

pytestmark = pytest.mark.unit


def test_readme_settings_table_is_current() -> None:
    assert current() == render(), "run `make settings-doc` and commit README.md"
