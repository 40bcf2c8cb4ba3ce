"""The rules file: the shipped defaults load; mistakes are reported by rule and field."""

import re
from pathlib import Path

import pytest

from crm_followup.domain.templates import TEMPLATES, context_keys
from crm_followup.rules.loader import RulesError, default_rules_path, load_rules, parse_rules
from crm_followup.rules.models import TriggerKind

pytestmark = pytest.mark.unit

GOOD_RULE = """
  - name: thank_you
    trigger: {event: interaction_logged, kinds: [meeting]}
    delay: 1bd
    template: thank_you
    audience: contact
    category: followup
"""


def _rules(*bodies: str) -> str:
    return "version: 1\nrules:\n" + "".join(bodies)


def test_shipped_rules_cover_spec_section_6() -> None:
    rules = load_rules()
    by_trigger = {kind: [r.name for r in rules.triggered_by(kind)] for kind in TriggerKind}
    assert by_trigger[TriggerKind.FIRM_CREATED] == ["welcome"]
    assert by_trigger[TriggerKind.INTERACTION_LOGGED] == ["thank_you"]
    assert by_trigger[TriggerKind.NO_INTERACTION] == [
        "no_interaction_reminder",
        "no_interaction_checkin",
    ]
    assert set(by_trigger[TriggerKind.STAGE_REACHED]) == {
        "landed_congratulations",
        "aftercare_introduction",
        "aftercare_checkin",
    }
    assert by_trigger[TriggerKind.NEXT_STEP_DUE] == ["next_step_reminder"]
    assert rules.named("aftercare_checkin").repeat is not None
    thank_you = rules.named("thank_you")
    assert str(thank_you.delay) == "1bd"
    assert {k.value for k in thank_you.trigger.kinds} == {
        "meeting", "site_visit", "forum", "training", "event",
    }  # fmt: skip


def test_rules_file_path_can_be_overridden(tmp_path: Path) -> None:
    custom = tmp_path / "rules.yaml"
    custom.write_text(_rules(GOOD_RULE))
    assert [r.name for r in load_rules(custom).rules] == ["thank_you"]
    assert default_rules_path().name == "default_rules.yaml"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("template: thank_you", "template: thanks_a_lot",
         "rule 'thank_you', field template: unknown template 'thanks_a_lot'"),
        ("delay: 1bd", "delay: tomorrow",
         "rule 'thank_you', field delay: 'tomorrow' is not a delay"),
        ("kinds: [meeting]", "kinds: [lunch]", "rule 'thank_you', field trigger.kinds.0"),
        ("audience: contact", "audience: account_manager", "is written for audience 'contact'"),
        ("category: followup", "category: staff_reminder",
         "staff_reminder goes with audience account_manager"),
        ("delay: 1bd", "delay: 1bd\n    colour: blue",
         "rule 'thank_you', field colour: Extra inputs are not permitted"),
        ("{event: interaction_logged, kinds: [meeting]}", "{event: stage_reached}",
         "stage_reached needs `stage`"),
    ],
)  # fmt: skip
def test_mistakes_name_the_rule_and_the_field(old: str, new: str, expected: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(_rules(GOOD_RULE.replace(old, new)), origin="custom.yaml")
    assert "rules file custom.yaml" in str(caught.value)
    assert expected in str(caught.value)


def test_file_level_mistakes() -> None:
    with pytest.raises(RulesError, match="two rules are named 'thank_you'"):
        parse_rules(_rules(GOOD_RULE, GOOD_RULE))
    with pytest.raises(RulesError, match="field version"):
        parse_rules(_rules(GOOD_RULE).replace("version: 1", "version: 2"))
    with pytest.raises(RulesError, match="not valid YAML"):
        parse_rules("rules: [")
    with pytest.raises(RulesError, match="cannot be read"):
        load_rules("/nonexistent/rules.yaml")
    quiet = GOOD_RULE.replace(
        "{event: interaction_logged, kinds: [meeting]}", "{event: no_interaction}"
    )
    with pytest.raises(RulesError, match="must list interaction_logged in cancel_on"):
        parse_rules(_rules(quiet))


def test_templates_md_documents_exactly_the_fixed_list() -> None:
    doc = (default_rules_path().parent / "TEMPLATES.md").read_text()
    documented = re.findall(r"^### `([a-z_]+)`", doc, flags=re.MULTILINE)
    assert documented == list(TEMPLATES)
    for name in TEMPLATES:
        section = doc.split(f"### `{name}`", 1)[1].split("### ", 1)[0]
        for key in TEMPLATES[name].context:
            assert f"`{key}`" in section, f"{name}: context key {key} undocumented"
    assert "enterprise_name" in context_keys("welcome")
