"""Contacts of a firm, and a person's data export and erasure."""

from fastapi import APIRouter, Response, status

from crm_intake.domain.contact import Contact
from crm_intake.entrypoints.http.deps import Admin, Ctx, IfMatch, Manager, MergePatch, Officer, etag
from crm_intake.entrypoints.http.problems import API, problems
from crm_intake.entrypoints.http.schemas import ContactExport, Me
from crm_intake.service import contacts
from crm_intake.service.commands import Erase, NewContact

router = APIRouter(prefix=API, tags=["contacts"])


@router.post(
    "/enterprises/{enterprise_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    summary="Add a contact to a firm",
    responses=problems(404, 410),
)
async def add_contact(
    enterprise_id: str, body: NewContact, ctx: Ctx, actor: Officer, response: Response
) -> Contact:
    contact = await contacts.add_contact(ctx, enterprise_id, body, actor)
    response.headers["ETag"] = etag(contact.version)
    return contact


@router.patch(
    "/enterprises/{enterprise_id}/contacts/{contact_id}",
    summary="Edit a contact (JSON merge patch)",
    responses=problems(404, 409, 410, 412, 428),
    openapi_extra={"x-merge-patch": "ContactPatch"},
)
async def update_contact(
    enterprise_id: str,
    contact_id: str,
    ctx: Ctx,
    actor: Officer,
    patch: MergePatch,
    version: IfMatch,
    response: Response,
) -> Contact:
    """`If-Match` carries the contact's version. Changing `email_consent` emits consent_changed."""
    contact = await contacts.update_contact(
        ctx, enterprise_id, contact_id, patch, actor, expected_version=version
    )
    response.headers["ETag"] = etag(contact.version)
    return contact


@router.get(
    "/contacts/{contact_id}/export", summary="All data held on a person", responses=problems(404)
)
async def export_contact(contact_id: str, ctx: Ctx, _: Manager) -> ContactExport:
    return ContactExport(**await contacts.export_contact(ctx, contact_id))


@router.post(
    "/contacts/{contact_id}/erase", summary="Erase a person's data", responses=problems(404)
)
async def erase_contact(
    contact_id: str, ctx: Ctx, actor: Admin, body: Erase | None = None
) -> Contact:
    """Replaces the person's data with a tombstone everywhere in intake; emits contact.erased."""
    return await contacts.erase_contact(
        ctx, contact_id, actor, reason=body.reason if body else None
    )


@router.get("/me", summary="Who the token belongs to", tags=["auth"], responses=problems())
async def me(actor: Officer) -> Me:
    return Me(id=actor.id, role=actor.role.value)
