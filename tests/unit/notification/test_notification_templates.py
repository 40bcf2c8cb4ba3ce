"""Every template exists in every language and renders with its documented context."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crm_notification.rendering.contexts import ALIASES, TEMPLATES, TemplateProblem
from crm_notification.rendering.renderer import TEMPLATES_DIR, Renderer
from crm_shared.contracts.vocabulary import Language

pytestmark = pytest.mark.unit

RENDERER = Renderer()
UNSUBSCRIBE = "https://notify.example.com/unsubscribe/TOKEN"
PAIRS = [(name, language) for name in TEMPLATES for language in Language]


@pytest.mark.parametrize(("name", "language"), PAIRS, ids=[f"{n}-{lang}" for n, lang in PAIRS])
def test_each_template_renders_in_each_language_with_its_documented_context(
    name: str, language: Language
) -> None:
    assert RENDERER.has(name, language), f"missing {Renderer.template_file(name, language)}"
    email = RENDERER.render(name, language, TEMPLATES[name].example, unsubscribe_url=UNSUBSCRIBE)
    assert email.language is language
    assert email.subject
    assert "\n" not in email.subject
    assert f'<html lang="{language.value}">' in email.html
    for part in (email.html, email.text):
        assert "{{" not in part
        assert "{%" not in part
        assert UNSUBSCRIBE in part
        assert "Warm Yang" in part
    assert email.text.startswith(email.text.splitlines()[0])  # the greeting comes first


def test_no_template_file_is_missing_or_unlisted() -> None:
    assert RENDERER.missing() == []
    on_disk = {p.name for p in (TEMPLATES_DIR / "emails").iterdir() if p.is_dir()}
    assert on_disk == set(TEMPLATES)


def test_every_template_follow_up_may_request_exists_and_needs_only_what_it_sends() -> None:
    followup = pytest.importorskip("crm_followup.domain.templates")
    assert set(followup.TEMPLATES) <= set(TEMPLATES) | set(ALIASES)
    for name in followup.TEMPLATES:
        spec = TEMPLATES[ALIASES.get(name, name)]
        required = {
            (field.validation_alias.choices[0] if field.validation_alias else key)  # type: ignore[union-attr]
            for key, field in spec.context.model_fields.items()
            if field.is_required()
        }
        assert required <= set(followup.context_keys(name)), name


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (Language.EN, "Thank you for the meeting on March 12, 2025."),
        (Language.DE, "vielen Dank für die Besprechung am 12. März 2025."),
        (Language.ZH, "感谢您于2025年3月12日与我们会面。"),
    ],
)
def test_dates_and_vocabulary_follow_the_language(language: Language, expected: str) -> None:
    email = RENDERER.render("thank_you", language, TEMPLATES["thank_you"].example)
    assert expected in email.text


def test_html_is_escaped_and_text_is_not() -> None:
    context = {"enterprise_name": "<script>alert('x')</script> & Co", "account_manager_name": "Li"}
    email = RENDERER.render("welcome", Language.EN, context)
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert "&amp; Co" in email.html
    assert "<script>alert('x')</script> & Co" in email.text
    assert "&amp;" not in email.subject


def test_a_transactional_email_has_no_unsubscribe_link() -> None:
    email = RENDERER.render("welcome", Language.EN, {"enterprise_name": "Acme"})
    assert "unsubscribe" not in email.text.lower()
    assert "unsubscribe" not in email.html.lower()


def test_the_request_recipient_name_greets_when_the_context_has_none() -> None:
    email = RENDERER.render(
        "welcome", Language.DE, {"enterprise_name": "Acme"}, recipient_name="Jörg Weber"
    )
    assert email.text.startswith("Guten Tag Jörg Weber,")
    nameless = RENDERER.render("welcome", Language.ZH, {"enterprise_name": "Acme"})
    assert nameless.text.startswith("您好：")


def test_a_missing_language_falls_back_to_english(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES_DIR, tmp_path / "templates")
    (tmp_path / "templates" / "emails" / "checkin" / "de.j2").unlink()
    renderer = Renderer(tmp_path / "templates")
    email = renderer.render("checkin", Language.DE, TEMPLATES["checkin"].example)
    assert email.language is Language.EN
    assert email.subject.startswith("How are things")
    assert renderer.missing() == ["emails/checkin/de.j2"]


def test_a_context_that_does_not_fit_is_refused() -> None:
    with pytest.raises(TemplateProblem, match="interaction_date"):
        RENDERER.render(
            "thank_you", Language.EN, {"enterprise_name": "Acme", "interaction_kind": "call"}
        )
    with pytest.raises(TemplateProblem, match="unknown template"):
        RENDERER.render("no_such_template", Language.EN, {"enterprise_name": "Acme"})


def test_old_names_and_keys_still_render() -> None:
    email = RENDERER.render(
        "next_step_reminder", Language.EN, {"enterprise_name": "Acme", "next_step": "Call back"}
    )
    assert email.template == "staff_next_step_reminder"
    checkin = RENDERER.render(
        "checkin", Language.EN, {"enterprise_name": "Acme", "days_without_interaction": 30}
    )
    assert "30 days" in checkin.text
