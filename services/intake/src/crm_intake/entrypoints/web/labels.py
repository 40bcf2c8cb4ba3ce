"""What the pages call the values of the closed vocabularies (translated when shown).

`N_` only marks a string for extraction by pybabel; the page's gettext translates it.
"""

from crm_shared.contracts.vocabulary import InteractionKind, Language, Need, Source, Stage, Status


def N_(message: str) -> str:  # the conventional gettext marker name
    return message


STAGES = {
    Stage.FIRST_CONTACT: N_("First contact"),
    Stage.QUALIFIED: N_("Qualified"),
    Stage.ENGAGED: N_("Engaged"),
    Stage.NEGOTIATING: N_("Negotiating"),
    Stage.LANDED: N_("Landed"),
    Stage.ESTABLISHED_PARTNERSHIP: N_("Established partnership"),
}
STATUSES = {
    Status.ACTIVE: N_("Active"),
    Status.ON_HOLD: N_("On hold"),
    Status.DORMANT: N_("Dormant"),
    Status.LOST: N_("Lost"),
    Status.WITHDRAWN: N_("Withdrawn"),
}
SOURCES = {
    Source.FORUM: N_("Forum"),
    Source.EVENT: N_("Event"),
    Source.TRAINING: N_("Training"),
    Source.REFERRAL: N_("Referral"),
    Source.WEBSITE: N_("Website"),
    Source.WALK_IN: N_("Walk-in"),
    Source.CHAMBER_OF_COMMERCE: N_("Chamber of commerce"),
    Source.OTHER: N_("Other"),
}
NEEDS = {
    Need.OFFICE_SPACE: N_("Office space"),
    Need.TALENT: N_("Talent"),
    Need.LICENSING: N_("Licensing"),
    Need.FINANCING: N_("Financing"),
    Need.PARTNERS: N_("Partners"),
    Need.MARKET_ACCESS: N_("Market access"),
    Need.POLICY: N_("Policy"),
    Need.OTHER: N_("Other need"),
}
INTERACTION_KINDS = {
    InteractionKind.CALL: N_("Call"),
    InteractionKind.EMAIL: N_("Email"),
    InteractionKind.MEETING: N_("Meeting"),
    InteractionKind.SITE_VISIT: N_("Site visit"),
    InteractionKind.FORUM: N_("Forum"),
    InteractionKind.TRAINING: N_("Training"),
    InteractionKind.EVENT: N_("Event"),
}
CONTACT_LANGUAGES = {
    Language.EN: N_("English"),
    Language.ZH: N_("Chinese"),
    Language.DE: N_("German"),
}
ROLES = {"officer": N_("Officer"), "manager": N_("Manager"), "admin": N_("Administrator")}
# Email templates of the follow-up rules, as the timeline names them.
TEMPLATES = {
    "welcome": N_("welcome email"),
    "thank_you": N_("thank-you email"),
    "checkin": N_("check-in email"),
    "staff_no_interaction_reminder": N_("reminder: no interaction for a while"),
    "staff_next_step_reminder": N_("reminder of a next step"),
    "landed_congratulations": N_("congratulations on landing"),
    "aftercare_introduction": N_("aftercare introduction"),
    "aftercare_checkin": N_("aftercare check-in"),
}

# Why a follow-up was cancelled or an email not sent (followup's and notification's codes).
REASONS = {
    "superseded_by_interaction": N_("an interaction came first"),
    "opted_out": N_("the contact opted out"),
    "unsubscribed": N_("the contact unsubscribed"),
    "contact_erased": N_("the contact was erased"),
    "erased": N_("the contact was erased"),
    "firm_lost": N_("the firm was lost"),
    "firm_withdrawn": N_("the firm withdrew"),
    "conditions_no_longer_hold": N_("no longer applies"),
    "merged_into_survivor": N_("the firm was merged"),
    "no_recipient": N_("nobody to send it to"),
    "cancelled_by_staff": N_("cancelled by staff"),
    "hard_bounce": N_("the address does not accept mail"),
    "no_consent": N_("no consent to emails"),
}

VOCABULARIES: dict[str, dict[str, str]] = {
    "stage": {k.value: v for k, v in STAGES.items()},
    "status": {k.value: v for k, v in STATUSES.items()},
    "source": {k.value: v for k, v in SOURCES.items()},
    "need": {k.value: v for k, v in NEEDS.items()},
    "interaction_kind": {k.value: v for k, v in INTERACTION_KINDS.items()},
    "language": {k.value: v for k, v in CONTACT_LANGUAGES.items()},
    "role": ROLES,
    "template": TEMPLATES,
    "reason": REASONS,
}


def label_of(vocabulary: str, value: object) -> str:
    """The untranslated label of `value`, or the value itself if it has none."""
    text = str(getattr(value, "value", value))
    return VOCABULARIES[vocabulary].get(text, text.replace("_", " "))
