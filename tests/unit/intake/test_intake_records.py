"""JSON merge patch (RFC 7396), field diffs and erasure scrubbing."""

import pytest

from crm_intake.domain.records import apply_merge_patch, diff, scrub

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    # The examples of RFC 7396, appendix A.
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target: object, patch: object, result: object) -> None:
    assert apply_merge_patch(target, patch) == result


def test_diff_lists_changed_fields_with_old_and_new() -> None:
    assert diff({"a": 1, "b": 2, "c": None}, {"a": 1, "b": 3, "d": 4}) == {
        "b": (2, 3),
        "d": (None, 4),
    }


def test_scrub_replaces_personal_strings_at_any_depth_ignoring_case() -> None:
    document = {
        "summary": "Met ANNA Schmidt (anna@example.com) about offices",
        "changes": {"email": {"old": None, "new": "anna@example.com"}},
        "list": ["+49301234567", 5, None],
    }
    cleaned = scrub(document, ["Anna Schmidt", "anna@example.com", "+49301234567"], "[erased]")
    assert cleaned == {
        "summary": "Met [erased] ([erased]) about offices",
        "changes": {"email": {"old": None, "new": "[erased]"}},
        "list": ["[erased]", 5, None],
    }
