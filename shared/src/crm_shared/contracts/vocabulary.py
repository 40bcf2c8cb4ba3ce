"""Closed vocabularies shared by the contracts and the services (SPEC §3–§5)."""

from enum import StrEnum


class Stage(StrEnum):
    FIRST_CONTACT = "first_contact"
    QUALIFIED = "qualified"
    ENGAGED = "engaged"
    NEGOTIATING = "negotiating"
    LANDED = "landed"
    ESTABLISHED_PARTNERSHIP = "established_partnership"


class Status(StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    DORMANT = "dormant"
    LOST = "lost"
    WITHDRAWN = "withdrawn"


class Source(StrEnum):
    FORUM = "forum"
    EVENT = "event"
    TRAINING = "training"
    REFERRAL = "referral"
    WEBSITE = "website"
    WALK_IN = "walk_in"
    CHAMBER_OF_COMMERCE = "chamber_of_commerce"
    OTHER = "other"


class Need(StrEnum):
    OFFICE_SPACE = "office_space"
    TALENT = "talent"
    LICENSING = "licensing"
    FINANCING = "financing"
    PARTNERS = "partners"
    MARKET_ACCESS = "market_access"
    POLICY = "policy"
    OTHER = "other"


class InteractionKind(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    SITE_VISIT = "site_visit"
    FORUM = "forum"
    TRAINING = "training"
    EVENT = "event"


class Language(StrEnum):
    EN = "en"
    ZH = "zh"
    DE = "de"


class NotificationCategory(StrEnum):
    TRANSACTIONAL = "transactional"
    FOLLOWUP = "followup"
    STAFF_REMINDER = "staff_reminder"
