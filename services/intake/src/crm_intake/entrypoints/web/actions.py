"""Forms that move a firm along: log an interaction, add a contact, change stage or status,
merge a duplicate. Each calls the same use case as the API, with the same rules."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from crm_intake.domain.errors import (
    Conflict,
    InvalidInput,
    MergedAway,
    NotFound,
    TransitionRefused,
    VersionMismatch,
)
from crm_intake.domain.stages import STAGE_ORDER, stage_rank
from crm_intake.entrypoints.web import errors as form_errors
from crm_intake.entrypoints.web import forms, session
from crm_intake.entrypoints.web.deps import Ctx, Renderer, User, firm_path, see_other
from crm_intake.entrypoints.web.failures import STALE, FirmGone, firm_errors, load_firm
from crm_intake.entrypoints.web.labels import N_
from crm_intake.entrypoints.web.progress import next_stage_gaps
from crm_intake.entrypoints.web.rendering import PREFIX
from crm_intake.entrypoints.web.session import StaffUser, require_role
from crm_intake.service import contacts, enterprises, lifecycle, merge
from crm_intake.service.commands import Merge, NewContact, NewInteraction, StageMove, StatusMove
from crm_shared.auth.tokens import Role
from crm_shared.contracts.vocabulary import Stage, Status

router = APIRouter(
    prefix=f"{PREFIX}/firms/{{enterprise_id}}", dependencies=[Depends(session.check_csrf)]
)

# The fields each form shows: a problem with any other field is shown above the form.
INTERACTION_FIELDS = {*forms.INTERACTION_FIELDS, "contact_ids"}
CONTACT_FIELDS = {*forms.CONTACT_FIELDS, "email_consent", "is_primary"}


def _stages_for(user: StaffUser, current: Stage) -> list[Stage]:
    """Forward stages for everyone; backward ones only for managers (the rule of §3)."""
    rank = stage_rank(current)
    return [
        stage
        for stage in STAGE_ORDER
        if stage != current and (stage_rank(stage) > rank or user.has(Role.MANAGER))
    ]


async def _page(
    request: Request, ctx: Ctx, pages: Renderer, user: StaffUser, action: str, enterprise_id: str,
    form: forms.FormState, status_code: int = 200, **extra: Any,
) -> Response:  # fmt: skip
    view = await load_firm(ctx, enterprise_id)
    context: dict[str, Any] = {"firm": view.enterprise, "contacts": view.contacts}
    if action == "stage":
        context["stages"] = _stages_for(user, view.enterprise.stage)
        context["gaps"] = await next_stage_gaps(ctx, view.enterprise)
    elif action == "status":
        context["statuses"] = [s for s in Status if s != view.enterprise.status]
    elif action == "merge":
        with firm_errors():
            context["candidates"] = await enterprises.find_duplicates(ctx, enterprise_id)
    if "version" not in form.values:
        form.values["version"] = str(view.enterprise.version)
    return pages.render(
        request, f"action_{action}.html", form=form, status_code=status_code, **context, **extra
    )


def _validate(model: type[BaseModel], data: Any, request: Request, pages: Renderer,
              known: set[str]) -> tuple[Any, form_errors.FormErrors]:  # fmt: skip
    try:
        return model.model_validate(data), form_errors.FormErrors()
    except ValidationError as error:
        english = pages.language(request) == "en"
        return None, form_errors.from_validation(
            error, pages.gettext(request), known=known, english=english
        )


@router.get("/{action}")
async def action_page(
    enterprise_id: str, action: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    if action not in ("interaction", "contact", "stage", "status", "merge"):
        raise FirmGone()
    if action == "merge":
        require_role(user, Role.MANAGER)
    values: forms.Values = {}
    if action == "interaction":
        values = {"occurred_at": forms.desk_now_input(ctx.clock()), "kind": "meeting"}
    elif action == "contact":
        values = {"language": pages.language(request), "timezone": "Asia/Shanghai"}
    return await _page(request, ctx, pages, user, action, enterprise_id, forms.FormState(values))


@router.post("/interaction")
async def log_interaction(
    enterprise_id: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    values = forms.read_values(await request.form())
    form = forms.FormState(values)
    command, form.errors = _validate(
        NewInteraction, forms.interaction_data(values), request, pages, INTERACTION_FIELDS
    )
    if command is not None:
        try:
            with firm_errors():
                await lifecycle.log_interaction(ctx, enterprise_id, command, user.actor)
        except InvalidInput as error:
            form.errors = form_errors.from_problems(
                error.problems, pages.gettext(request), known=INTERACTION_FIELDS
            )
        else:
            session.flash(request, N_("Interaction logged."))
            return see_other(firm_path(enterprise_id))
    return await _page(request, ctx, pages, user, "interaction", enterprise_id, form, 422)


@router.post("/contact")
async def add_contact(
    enterprise_id: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    values = forms.read_values(await request.form())
    form = forms.FormState(values)
    view = await load_firm(ctx, enterprise_id)
    data = forms.new_contact_data(values)
    if "country" not in data:
        data["country"] = view.enterprise.country
    command, form.errors = _validate(NewContact, data, request, pages, CONTACT_FIELDS)
    if command is not None:
        try:
            with firm_errors():
                await contacts.add_contact(ctx, enterprise_id, command, user.actor)
        except InvalidInput as error:
            form.errors = form_errors.from_problems(
                error.problems, pages.gettext(request), known=CONTACT_FIELDS
            )
        else:
            session.flash(request, N_("Contact added."))
            return see_other(firm_path(enterprise_id))
    return await _page(request, ctx, pages, user, "contact", enterprise_id, form, 422)


@router.post("/stage")
async def move_stage(
    enterprise_id: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    """The server applies the role rule itself: a backward move by an officer is refused
    (403) even though the form never offers it."""
    values = forms.read_values(await request.form())
    form = forms.FormState(values)
    data = {k: v for k, v in values.items() if k in ("to_stage", "reason") and v}
    command, form.errors = _validate(StageMove, data, request, pages, {"to_stage", "reason"})
    if command is not None:
        _ = pages.gettext(request)
        try:
            with firm_errors():
                await lifecycle.move_stage(
                    ctx,
                    enterprise_id,
                    command,
                    user.actor,
                    expected_version=forms.version_of(values),
                )
        except TransitionRefused as refused:
            form.errors = form_errors.from_problems(refused.problems, _, requirements=True)
            return await _page(request, ctx, pages, user, "stage", enterprise_id, form, 422,
                               refused=form.errors.form)  # fmt: skip
        except InvalidInput as error:
            form.errors = form_errors.from_problems(error.problems, _, known={"to_stage", "reason"})
        except VersionMismatch:
            form.errors.add(form_errors.FORM, _(STALE))
            form.values.pop("version", None)
        else:
            session.flash(request, N_("Stage changed."))
            return see_other(firm_path(enterprise_id))
    return await _page(request, ctx, pages, user, "stage", enterprise_id, form, 422)


@router.post("/status")
async def change_status(
    enterprise_id: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    values = forms.read_values(await request.form())
    form = forms.FormState(values)
    data = {k: v for k, v in values.items() if k in ("status", "reason") and v}
    command, form.errors = _validate(StatusMove, data, request, pages, {"status", "reason"})
    if command is not None:
        _ = pages.gettext(request)
        try:
            with firm_errors():
                await lifecycle.change_status(
                    ctx,
                    enterprise_id,
                    command,
                    user.actor,
                    expected_version=forms.version_of(values),
                )
        except InvalidInput as error:
            form.errors = form_errors.from_problems(error.problems, _, known={"status", "reason"})
        except VersionMismatch:
            form.errors.add(form_errors.FORM, _(STALE))
            form.values.pop("version", None)
        else:
            session.flash(request, N_("Status changed."))
            return see_other(firm_path(enterprise_id))
    return await _page(request, ctx, pages, user, "status", enterprise_id, form, 422)


@router.post("/merge")
async def merge_duplicate(
    enterprise_id: str, request: Request, ctx: Ctx, pages: Renderer, user: User
) -> Response:
    """Managers only, as in the API (`POST …/merge` needs the manager role)."""
    require_role(user, Role.MANAGER)
    values = forms.read_values(await request.form())
    form = forms.FormState(values)
    data = {"duplicate_id": values.get("duplicate_id", "")}
    command, form.errors = _validate(Merge, data, request, pages, {"duplicate_id"})
    if command is not None:
        _ = pages.gettext(request)
        try:
            await merge.merge_enterprises(
                ctx, enterprise_id, command, user.actor, expected_version=forms.version_of(values)
            )
        except NotFound as error:
            if error.identifier != command.duplicate_id:
                raise FirmGone() from error
            form.errors.add("duplicate_id", _(N_("No firm has this id.")))
        except MergedAway as error:
            raise FirmGone(error.survivor_id) from error
        except Conflict:
            form.errors.add("duplicate_id", _(N_("That firm was merged into another already.")))
        except InvalidInput as error:
            form.errors = form_errors.from_problems(error.problems, _, known={"duplicate_id"})
        except VersionMismatch:
            form.errors.add(form_errors.FORM, _(STALE))
            form.values.pop("version", None)
        else:
            session.flash(request, N_("Duplicate merged."))
            return see_other(firm_path(enterprise_id))
    return await _page(request, ctx, pages, user, "merge", enterprise_id, form, 422)
