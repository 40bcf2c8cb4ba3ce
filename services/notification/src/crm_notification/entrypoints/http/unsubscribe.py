"""The unsubscribe page: no login, a signed and expiring token, the recipient's language.

GET only asks (mail scanners follow links; RFC 8058 forbids acting on GET); POST
unsubscribes — from the page's button or from a mail client's one-click
`List-Unsubscribe-Post`. Besides the ops endpoints, this is the only route
without authentication: the token is the authority, and it names only a
notification id.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader

from crm_notification.adapters.deliveries import DeliveryRepository
from crm_notification.adapters.suppressions import SuppressionRepository
from crm_notification.domain.delivery import SuppressionReason
from crm_notification.domain.unsubscribe import UnsubscribeTokens
from crm_notification.rendering.i18n import DEFAULT_LANGUAGE, PAGE, language_or_default
from crm_notification.rendering.renderer import TEMPLATES_DIR
from crm_shared.contracts.notification import NotificationUnsubscribed
from crm_shared.contracts.vocabulary import Language
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork

_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def preferred_language(accept_language: str | None) -> Language:
    """The first of our languages in an Accept-Language header (by q-value), else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.split("-")[0].lower()))
    for _, _, primary in sorted(ranked):
        if primary in {lang.value for lang in Language}:
            return Language(primary)
    return DEFAULT_LANGUAGE


def unsubscribe_router(
    *,
    deliveries: DeliveryRepository,
    suppressions: SuppressionRepository,
    uow: UnitOfWork,
    tokens: UnsubscribeTokens,
) -> APIRouter:
    router = APIRouter(tags=["unsubscribe"])
    pages = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)

    def page(state: str, language: Language, status: int, action: str = "") -> HTMLResponse:
        html = pages.get_template("pages/unsubscribe.html.j2").render(
            state=state, lang=language.value, text=PAGE[language], action=action
        )
        return HTMLResponse(html, status_code=status, headers=_NO_STORE)

    async def look_up(token: str, request: Request) -> tuple[dict | None, HTMLResponse | None]:
        check = tokens.check(token)
        doc = await deliveries.get(check.notification_id) if check.notification_id else None
        if doc is None:
            language = preferred_language(request.headers.get("accept-language"))
            return None, page("invalid", language, 404)
        if check.expired:
            return None, page("expired", language_or_default(doc.get("locale")), 410)
        return doc, None

    @router.get("/unsubscribe/{token}", response_class=HTMLResponse, summary="Ask to unsubscribe")
    async def confirm(token: str, request: Request) -> HTMLResponse:
        doc, refusal = await look_up(token, request)
        if refusal is not None or doc is None:
            return refusal or page("invalid", DEFAULT_LANGUAGE, 404)
        return page("ask", language_or_default(doc.get("locale")), 200, action=request.url.path)

    @router.post("/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe")
    async def unsubscribe(token: str, request: Request) -> HTMLResponse:
        doc, refusal = await look_up(token, request)
        if refusal is not None or doc is None:
            return refusal or page("invalid", DEFAULT_LANGUAGE, 404)

        async def record(tx: Tx) -> None:
            added = await suppressions.add(
                tx,
                doc["recipient_hash"],
                SuppressionReason.UNSUBSCRIBED,
                now=tx.now,
                origin={
                    "notification_id": doc["_id"],
                    "enterprise_id": doc["enterprise_id"],
                    "contact_id": doc.get("contact_id"),
                },
            )
            if added:
                event = NotificationUnsubscribed(
                    enterprise_id=doc["enterprise_id"],
                    contact_id=doc.get("contact_id"),
                    notification_id=doc["_id"],
                )
                tx.emit(event, subject=doc["enterprise_id"])

        await uow.run(record)
        return page("done", language_or_default(doc.get("locale")), 200)

    return router
