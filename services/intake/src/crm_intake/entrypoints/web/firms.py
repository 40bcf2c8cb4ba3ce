"""Firms: the list with search and filters, logging a first contact, the firm page, editing."""

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from crm_intake.adapters.enterprises import EnterpriseQuery
from crm_intake.domain.enterprise import EnterpriseProfile
from crm_intake.domain.errors import Conflict, DuplicatesFound, InvalidInput, VersionMismatch
from crm_intake.entrypoints.web import errors as form_errors
from crm_intake.entrypoints.web import forms, session
from crm_intake.entrypoints.web.deps import Ctx, Renderer, User, firm_path, see_other
from crm_intake.entrypoints.web.failures import STALE, firm_errors, load_firm
from crm_intake.entrypoints.web.labels import N_
from crm_intake.entrypoints.web.progress import next_stage_gaps
from crm_intake.entrypoints.web.rendering import PREFIX
from crm_intake.entrypoints.web.timeline import present
from crm_intake.service import enterprises, timeline
from crm_intake.service.commands import NewEnterprise
from crm_shared.auth.tokens import Role
from crm_shared.contracts.vocabulary import Stage, Status

router = APIRouter(prefix=PREFIX, dependencies=[Depends(session.check_csrf)])
PAGE_SIZE = 25
NEW_FIRM_FIELDS = {
    *forms.FIRM_FIELDS,
    *(f"primary_contact.{name}" for name in (*forms.CONTACT_FIELDS, "email_consent")),
}
EDIT_FIELDS = {
    *forms.PROFILE_FIELDS,
    "needs",
    "investment_amount",
    "investment_currency",
    "partner_organisation",
    "partner_kind",
    "partner_since",
}


def _enum(cls: type[Stage] | type[Status], value: str | None) -> Stage | Status | None:
    try:
        return cls(value) if value else None
    except ValueError:
        return None


@router.get("/firms")
async def firm_list(request: Request, ctx: Ctx, pages: Renderer, user: User) -> Response:
    """Search and filter like `GET /api/v1/enterprises` (firm names only: no personal data)."""
    params = request.query_params
    filters = {name: params.get(name, "").strip() for name in ("q", "stage", "status", "country")}
    filters |= {name: params.get(name, "").strip() for name in ("sector", "owner")}
    country = filters["country"].upper()
    query = EnterpriseQuery(
        stage=_enum(Stage, filters["stage"]),  # type: ignore[arg-type]
        status=_enum(Status, filters["status"]),  # type: ignore[arg-type]
        country=country if len(country) == 2 and country.isalpha() else None,
        sector=filters["sector"] or None,
        owner=filters["owner"] or None,
        q=filters["q"][:200] or None,
        cursor=params.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    problems = form_errors.FormErrors()
    try:
        items, next_cursor = await enterprises.list_enterprises(ctx, query)
    except InvalidInput:
        items, next_cursor = [], None
        problems.add(form_errors.FORM, pages.gettext(request)(N_("That page of results expired.")))
    next_params = {k: v for k, v in filters.items() if v} | {"cursor": next_cursor or ""}
    return pages.render(
        request,
        "firm_list.html",
        firms=items,
        filters=filters,
        errors=problems,
        next_params=next_params if next_cursor else None,
        stages=list(Stage),
        statuses=list(Status),
    )


def _new_form(
    request: Request, pages: Renderer, form: forms.FormState, **extra: object
) -> Response:
    return pages.render(request, "firm_new.html", form=form, **extra)


@router.get("/firms/new")
async def new_firm_page(request: Request, pages: Renderer, user: User) -> Response:
    form = forms.FormState(
        values={
            "form_id": secrets.token_urlsafe(16),
            "primary_contact.language": pages.language(request),
            "primary_contact.timezone": "Asia/Shanghai",
        }
    )
    return _new_form(request, pages, form)


@router.post("/firms/new")
async def create_firm(request: Request, ctx: Ctx, pages: Renderer, user: User) -> Response:
    values = forms.read_values(await request.form())
    form = forms.FormState(values=values)
    _ = pages.gettext(request)
    english = pages.language(request) == "en"
    try:
        command = NewEnterprise.model_validate(forms.new_enterprise_data(values))
    except ValidationError as error:
        form.errors = form_errors.from_validation(error, _, known=NEW_FIRM_FIELDS, english=english)
        return _new_form(request, pages, form, status_code=422)
    try:
        view = await enterprises.create_enterprise(
            ctx,
            command,
            user.actor,
            idempotency_key=str(values.get("form_id") or "") or None,
            allow_duplicate=values.get("allow_duplicate") == "true",
        )
    except DuplicatesFound as found:
        return _new_form(request, pages, form, candidates=found.candidates, status_code=409)
    except InvalidInput as error:
        form.errors = form_errors.from_problems(error.problems, _, known=NEW_FIRM_FIELDS)
        return _new_form(request, pages, form, status_code=422)
    except Conflict:
        form.errors.add(form_errors.FORM, _(N_("This form was sent before. Open a new one.")))
        return _new_form(request, pages, form, status_code=409)
    session.flash(request, N_("First contact logged."))
    return see_other(firm_path(view.enterprise.id))


@router.get("/firms/{enterprise_id}")
async def firm_page(
    enterprise_id: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    view = await load_firm(ctx, enterprise_id)
    with firm_errors():
        entries = await timeline.get_timeline(ctx, enterprise_id)
    language = pages.language(request)
    formats = pages.environments[language].globals["fmt"]
    shown = present(entries, pages.gettext(request), formats)
    interactions = [entry for entry in entries if entry.kind == "interaction"]
    return pages.render(
        request,
        "firm.html",
        firm=view.enterprise,
        contacts=view.contacts,
        contact_names={c.id: c.full_name for c in view.contacts},
        interactions=interactions,
        timeline=shown,
        gaps=await next_stage_gaps(ctx, view.enterprise),
        can_merge=user.has(Role.MANAGER),
    )


def _edit_form(
    request: Request, pages: Renderer, firm: object, form: forms.FormState, **kw: object
) -> Response:
    return pages.render(request, "firm_edit.html", firm=firm, form=form, **kw)


@router.get("/firms/{enterprise_id}/edit")
async def edit_firm_page(
    enterprise_id: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    view = await load_firm(ctx, enterprise_id)
    form = forms.FormState(values=forms.profile_values(view.enterprise))
    return _edit_form(request, pages, view.enterprise, form)


@router.post("/firms/{enterprise_id}/edit")
async def edit_firm(
    enterprise_id: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    view = await load_firm(ctx, enterprise_id)
    values = forms.read_values(await request.form())
    form = forms.FormState(values=values)
    _ = pages.gettext(request)
    patch = forms.profile_data(values, view.enterprise)
    try:
        EnterpriseProfile.model_validate(patch)
    except ValidationError as error:
        english = pages.language(request) == "en"
        form.errors = form_errors.from_validation(error, _, known=EDIT_FIELDS, english=english)
        return _edit_form(request, pages, view.enterprise, form, status_code=422)
    try:
        with firm_errors():
            await enterprises.update_enterprise(
                ctx, enterprise_id, patch, user.actor, expected_version=forms.version_of(values)
            )
    except InvalidInput as error:
        form.errors = form_errors.from_problems(error.problems, _, known=EDIT_FIELDS)
        return _edit_form(request, pages, view.enterprise, form, status_code=422)
    except VersionMismatch:
        form.errors.add(form_errors.FORM, _(STALE))
        return _edit_form(request, pages, view.enterprise, form, status_code=409)
    session.flash(request, N_("Firm details saved."))
    return see_other(firm_path(enterprise_id))
