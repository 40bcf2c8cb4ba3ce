"""`/api/v1/webhooks`: admins register, list and delete subscriptions and read deliveries."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import APIRouter, Depends, Query, Response, status

from crm_shared.auth.tokens import Principal
from crm_shared.http.problems import (
    PROBLEM_JSON,
    PROBLEM_RESPONSES,
    FieldError,
    Problem,
    ProblemError,
)
from crm_webhooks.adapters.deliveries import DeliveryRepository
from crm_webhooks.adapters.http_sender import Resolver, check_url, resolve
from crm_webhooks.adapters.subscriptions import SubscriptionRepository
from crm_webhooks.domain.filters import InvalidFilter, validate
from crm_webhooks.domain.signing import new_secret
from crm_webhooks.domain.states import DeliveryStatus
from crm_webhooks.domain.url_policy import UrlRefused
from crm_webhooks.entrypoints.http.models import (
    DeliveriesPublic,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhooksPublic,
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "No such subscription"}
}


def _public(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "id": document["_id"]}


def _delivery(document: dict[str, Any]) -> DeliveryPublic:
    waiting = document["status"] in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
    return DeliveryPublic.model_validate(
        {
            **document,
            "id": document["_id"],
            "next_attempt_at": document["next_attempt_at"] if waiting else None,
        }
    )


def _invalid(field: str, message: str, kind: str) -> ProblemError:
    return ProblemError(
        422,
        "Invalid webhook",
        f"{field}: {message}",
        kind=kind,
        errors=[FieldError(field=field, message=message)],
    )


def webhooks_router(
    *,
    subscriptions: SubscriptionRepository,
    deliveries: DeliveryRepository,
    admin: Callable[..., Awaitable[Principal]],
    relayed_types: list[str],
    allow_local_targets: bool,
    clock: Callable[[], datetime],
    resolver: Resolver = resolve,
) -> APIRouter:
    Admin = Annotated[Principal, Depends(admin)]
    router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=PROBLEM_RESPONSES)

    async def found(subscription_id: str) -> dict[str, Any]:
        document = await subscriptions.get(subscription_id)
        if document is None:
            raise ProblemError(
                404, "Not Found", f"no webhook {subscription_id!r}", kind="webhook-not-found"
            )
        return document

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=WebhookCreated,
        summary="Register a subscription (the secret is shown only in this response)",
    )
    async def create(body: WebhookCreate, caller: Admin, response: Response) -> dict[str, Any]:
        try:
            event_types = validate(body.event_types, relayed_types)
        except InvalidFilter as error:
            raise _invalid("event_types", str(error), "webhook-filter") from None
        try:
            await check_url(body.url, allow_local=allow_local_targets, resolver=resolver)
        except UrlRefused as error:
            raise _invalid("url", str(error), "webhook-url-refused") from None
        document = await subscriptions.add(
            url=body.url.strip(),
            event_types=event_types,
            description=body.description,
            secret=new_secret(),
            created_by=caller.subject,
            now=clock(),
        )
        response.headers["location"] = f"/api/v1/webhooks/{document['_id']}"
        return _public(document)

    @router.get("", response_model=WebhooksPublic, summary="Every subscription (no secrets)")
    async def list_all(_: Admin) -> dict[str, Any]:
        return {"items": [_public(d) for d in await subscriptions.listed()]}

    @router.get(
        "/{subscription_id}",
        response_model=WebhookPublic,
        responses=NOT_FOUND,
        summary="One subscription (no secret)",
    )
    async def read(subscription_id: str, _: Admin) -> dict[str, Any]:
        return _public(await found(subscription_id))

    @router.delete(
        "/{subscription_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=NOT_FOUND,
        summary="Delete a subscription; its waiting deliveries are cancelled",
    )
    async def delete(subscription_id: str, _: Admin) -> Response:
        await found(subscription_id)
        now = clock()
        await subscriptions.delete(subscription_id, now)
        waiting = [DeliveryStatus.PENDING, DeliveryStatus.PAUSED]
        await deliveries.move_all(subscription_id, waiting, DeliveryStatus.CANCELLED, now)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/{subscription_id}/enable",
        response_model=WebhookPublic,
        responses=NOT_FOUND,
        summary="Enable a disabled subscription; its paused deliveries are sent",
    )
    async def enable(subscription_id: str, _: Admin) -> dict[str, Any]:
        await found(subscription_id)
        now = clock()
        await subscriptions.enable(subscription_id, now)
        await deliveries.move_all(
            subscription_id, [DeliveryStatus.PAUSED], DeliveryStatus.PENDING, now
        )
        return _public(await found(subscription_id))

    @router.get(
        "/{subscription_id}/deliveries",
        response_model=DeliveriesPublic,
        responses=NOT_FOUND,
        summary="Deliveries, newest first, each with its attempt log",
    )
    async def list_deliveries(
        subscription_id: str,
        _: Admin,
        status_filter: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(description="`next_cursor` of a page")] = None,
    ) -> dict[str, Any]:
        await found(subscription_id)
        try:
            before = ObjectId(cursor) if cursor else None
        except InvalidId:
            raise _invalid("cursor", "not a cursor from a previous page", "validation") from None
        page = await deliveries.listed(
            subscription_id, status=status_filter, before=before, limit=limit
        )
        next_cursor = str(page[-1]["seq"]) if len(page) == limit else None
        return {"items": [_delivery(d) for d in page], "next_cursor": next_cursor}

    return router
