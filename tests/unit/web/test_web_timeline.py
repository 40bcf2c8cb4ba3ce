"""The timeline told in the page's language, from the service's entries."""

from datetime import UTC, datetime

import pytest

from crm_intake.entrypoints.web.i18n import Formats, load_translations
from crm_intake.entrypoints.web.timeline import present
from crm_intake.service.timeline import TimelineEntry

pytestmark = pytest.mark.unit

AT = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
CHINESE = load_translations()["zh"].gettext


def _entry(entry_kind: str, /, **detail: object) -> TimelineEntry:
    return TimelineEntry(AT, entry_kind, f"english title of {entry_kind}", "li.wei", dict(detail))


def test_each_kind_of_entry_is_told_in_chinese() -> None:
    entries = [
        _entry("stage_changed", from_stage="qualified", to_stage="engaged", reason="会面顺利"),
        _entry("stage_changed", from_stage=None, to_stage="first_contact"),
        _entry("interaction", kind="meeting", summary="在杨浦区会面"),
        _entry("audit", entity="enterprise", action="updated", changes={"sector": {}}),
        _entry(
            "audit",
            entity="enterprise",
            action="status_changed",
            changes={"status": {"old": "active", "new": "on_hold"}},
        ),
        _entry(
            "followup.scheduled", data={"template": "welcome", "due_at": "2026-03-09T08:00:00Z"}
        ),
        _entry("notification.sent", data={"template": "welcome"}),
        _entry("notification.suppressed", data={"template": "checkin", "reason": "unsubscribed"}),
    ]
    shown = present(entries, CHINESE, Formats("zh"))
    texts = [(item.text, item.note) for item in shown]
    assert texts == [
        ("阶段 已评估 → 合作中", "会面顺利"),
        ("登记于阶段：首次接触", None),
        ("已记录会面", "在杨浦区会面"),
        ("企业信息已修改：行业", None),
        ("状态 活跃 → 暂停", None),
        ("已安排跟进：欢迎邮件，到期时间 2026年3月9日 16:00:00", None),
        ("邮件已发送：欢迎邮件", None),
        ("邮件未发送：回访邮件", "联系人已退订"),
    ]


def test_audit_entries_that_repeat_another_entry_are_left_out() -> None:
    entries = [
        _entry("audit", entity="interaction", action="logged"),
        _entry("audit", entity="enterprise", action="stage_changed"),
    ]
    assert present(entries, CHINESE, Formats("zh")) == []


def test_an_unknown_kind_keeps_the_services_title() -> None:
    shown = present([_entry("followup.rerouted")], CHINESE, Formats("zh"))
    assert shown[0].text == "english title of followup.rerouted"
