"""Jinja2 rendering of the email templates, in the recipient's language.

One file per template and language (`templates/emails/<name>/<lang>.j2`) holds
three blocks — `subject`, `html` and `text` — and extends the shared layout
(`templates/emails/_layout.j2`), which carries the Warm Yang branding and the
footer. The same file is rendered twice: by an autoescaping environment for the
HTML part and by a plain one for the text part and the subject (a text part
must not show `&amp;`). Undefined variables are errors, never empty strings.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, pass_context
from jinja2.runtime import Context

from crm_notification.rendering.contexts import TEMPLATES, template_spec, validated_context
from crm_notification.rendering.i18n import DEFAULT_LANGUAGE, LABELS, UI
from crm_shared.contracts.vocabulary import Language

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class RenderedEmail:
    template: str
    language: Language  # the language actually used (after falling back)
    subject: str
    text: str
    html: str


@pass_context
def _format_date(context: Context, value: date | datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, format=style, locale=str(context["lang"]))


@pass_context
def _label(context: Context, value: object, kind: str) -> str:
    text = str(value)
    return LABELS[kind][Language(context["lang"])].get(text, text.replace("_", " "))


def _environment(directory: Path, *, autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=autoescape,  # noqa: S701 - True for the HTML part; the text part must not escape
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["date"] = _format_date
    env.filters["label"] = _label
    return env


_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"\s+")


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)) + "\n"


class Renderer:
    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self._directory = directory
        self._html = _environment(directory, autoescape=True)
        self._text = _environment(directory, autoescape=False)

    @staticmethod
    def template_file(name: str, language: Language) -> str:
        return f"emails/{name}/{language.value}.j2"

    def has(self, name: str, language: Language) -> bool:
        try:
            self._text.get_template(self.template_file(name, language))
        except TemplateNotFound:
            return False
        return True

    def missing(self) -> list[str]:
        """Template files that should exist and do not (every name in every language)."""
        return [
            self.template_file(name, language)
            for name in TEMPLATES
            for language in Language
            if not self.has(name, language)
        ]

    def render(
        self,
        name: str,
        language: Language,
        context: dict[str, Any],
        *,
        recipient_name: str | None = None,
        unsubscribe_url: str | None = None,
    ) -> RenderedEmail:
        """Render `name` in `language` (English if that file is missing).

        Raises TemplateProblem for an unknown name or a context that does not fit.
        """
        spec = template_spec(name)
        values = validated_context(name, context, recipient_name).model_dump()
        if not self.has(spec.name, language):
            language = DEFAULT_LANGUAGE
        ui = UI[language]
        person = values.get("recipient_name")
        variables = {
            **values,
            "lang": language.value,
            "ui": ui,
            "greeting": ui["greeting_named"].format(name=person) if person else ui["greeting"],
            "unsubscribe_url": unsubscribe_url,
            "for_staff": spec.name.startswith("staff_"),
        }
        path = self.template_file(spec.name, language)
        text_template = self._text.get_template(path)
        subject = "".join(text_template.blocks["subject"](text_template.new_context(variables)))
        return RenderedEmail(
            template=spec.name,
            language=language,
            subject=_SPACES.sub(" ", subject).strip(),
            text=_tidy_text(text_template.render(variables, part="text")),
            html=self._html.get_template(path).render(variables, part="html").strip() + "\n",
        )
