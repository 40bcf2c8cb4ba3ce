"""Server-rendered pages: one Jinja2 environment per language, with gettext and locale formats.

An environment per language (rather than swapping gettext per request) keeps rendering
free of shared mutable state; they share the template files.
"""

import gettext
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from crm_intake.entrypoints.web import session
from crm_intake.entrypoints.web.errors import REQUIREMENTS
from crm_intake.entrypoints.web.i18n import (
    HTML_LANG,
    LANGUAGE_NAMES,
    LANGUAGES,
    Formats,
    choose_language,
    load_translations,
)
from crm_intake.entrypoints.web.labels import VOCABULARIES, label_of

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
PREFIX = "/ui"
APP_NAME = "Warm Yang CRM"


def _environment(language: str, translations: gettext.NullTranslations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    formats = Formats(language)

    def label(value: object, vocabulary: str) -> str:
        return translations.gettext(label_of(vocabulary, value))

    def choices(vocabulary: str) -> list[tuple[str, str]]:
        """(value, translated label) of every value of a vocabulary, in its own order."""
        return [
            (value, translations.gettext(text)) for value, text in VOCABULARIES[vocabulary].items()
        ]

    env.filters.update(
        label=label,
        date=formats.date,
        datetime=formats.datetime,
        number=formats.number,
        money=formats.money,
        country=formats.country,
    )
    env.globals.update(
        fmt=formats,
        lang=language,
        html_lang=HTML_LANG[language],
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        app_name=APP_NAME,
        prefix=PREFIX,
        countries=formats.countries(),
        choices=choices,
        requirements=REQUIREMENTS,
    )
    return env


class Pages:
    """Renders a template in the request's language with what every page needs."""

    def __init__(self) -> None:
        self.translations = load_translations()
        self.environments = {
            language: _environment(language, translations)
            for language, translations in self.translations.items()
        }

    def language(self, request: Request) -> str:
        user = getattr(request.state, "web_user", None)
        return choose_language(
            request.cookies.get(session.LANGUAGE_COOKIE),
            user.language if user else None,
            request.headers.get("accept-language"),
        )

    def gettext(self, request: Request) -> Any:
        return self.translations[self.language(request)].gettext

    def render(
        self, request: Request, template: str, *, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        language = self.language(request)
        page = self.environments[language].get_template(template)
        query = f"?{request.url.query}" if request.url.query else ""
        html = page.render(
            request=request,
            user=getattr(request.state, "web_user", None),
            csrf_token=session.csrf_token(request),
            flash=session.pop_flash(request),
            here=f"{request.url.path}{query}",
            **context,
        )
        headers = {
            "Content-Language": HTML_LANG[language],
            # Pages show firms' and contacts' data: never kept by shared caches.
            "Cache-Control": "no-store",
            "Vary": "Cookie, Accept-Language",
        }
        return HTMLResponse(html, status_code=status_code, headers=headers)
