"""Domain objects to and from MongoDB documents."""

from __future__ import annotations

from typing import Any

from crm_followup.domain.model import Contact, Firm, Followup, FollowupStatus
from crm_shared.contracts.vocabulary import Language, NotificationCategory, Stage, Status


def firm_document(firm: Firm) -> dict[str, Any]:
    return {
        "_id": firm.id,
        "name": firm.name,
        "country": firm.country,
        "stage": firm.stage.value,
        "status": firm.status.value,
        "owner": firm.owner,
        "aftercare_owner": firm.aftercare_owner,
        "primary_contact_id": firm.primary_contact_id,
        "created_at": firm.created_at,
        "last_interaction_at": firm.last_interaction_at,
        "merged_into": firm.merged_into,
    }


def firm_from(doc: dict[str, Any]) -> Firm:
    return Firm(
        id=doc["_id"],
        name=doc.get("name") or "",
        country=doc.get("country"),
        stage=Stage(doc.get("stage") or Stage.FIRST_CONTACT),
        status=Status(doc.get("status") or Status.ACTIVE),
        owner=doc.get("owner"),
        aftercare_owner=doc.get("aftercare_owner"),
        primary_contact_id=doc.get("primary_contact_id"),
        created_at=doc.get("created_at"),
        last_interaction_at=doc.get("last_interaction_at"),
        merged_into=doc.get("merged_into"),
    )


def contact_document(contact: Contact) -> dict[str, Any]:
    return {
        "_id": contact.id,
        "enterprise_id": contact.enterprise_id,
        "full_name": contact.full_name,
        "email": contact.email,
        "language": contact.language.value,
        "timezone": contact.timezone,
        "country": contact.country,
        "email_consent": contact.email_consent,
        "is_primary": contact.is_primary,
        "recent_sends": contact.recent_sends,
    }


def contact_from(doc: dict[str, Any]) -> Contact:
    language = doc.get("language")
    return Contact(
        id=doc["_id"],
        enterprise_id=doc["enterprise_id"],
        full_name=doc.get("full_name") or "",
        email=doc.get("email"),
        language=Language(language) if language in set(Language) else Language.EN,
        timezone=doc.get("timezone") or "Asia/Shanghai",
        country=doc.get("country"),
        email_consent=bool(doc.get("email_consent")),
        is_primary=bool(doc.get("is_primary")),
        recent_sends=list(doc.get("recent_sends") or []),
    )


def followup_document(followup: Followup) -> dict[str, Any]:
    return {
        "_id": followup.id,
        "enterprise_id": followup.enterprise_id,
        "rule": followup.rule,
        "template": followup.template,
        "category": followup.category.value,
        "audience": followup.audience,
        "contact_id": followup.contact_id,
        "due_at": followup.due_at,
        "status": followup.status.value,
        "anchor": followup.anchor,
        "occurrence": followup.occurrence,
        "notification_id": followup.notification_id,
    }


def followup_from(doc: dict[str, Any]) -> Followup:
    return Followup(
        id=doc["_id"],
        enterprise_id=doc["enterprise_id"],
        rule=doc["rule"],
        template=doc["template"],
        category=NotificationCategory(doc["category"]),
        audience=doc.get("audience") or "contact",
        due_at=doc["due_at"],
        contact_id=doc.get("contact_id"),
        anchor=dict(doc.get("anchor") or {}),
        status=FollowupStatus(doc["status"]),
        occurrence=int(doc.get("occurrence") or 1),
    )
