"""Which event goes to which handler (the inbox makes every one of them idempotent)."""

from __future__ import annotations

from crm_followup.service.lifecycle import LifecycleHandlers
from crm_followup.service.outcomes import OutcomeHandlers
from crm_followup.service.plans import PlanKeeper
from crm_shared.contracts.lifecycle import (
    ContactAdded,
    ContactConsentChanged,
    ContactErased,
    ContactUpdated,
    EnterpriseCreated,
    EnterpriseMerged,
    EnterpriseStageChanged,
    EnterpriseStatusChanged,
    EnterpriseUpdated,
    InteractionLogged,
)
from crm_shared.contracts.notification import (
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
    NotificationUnsubscribed,
)
from crm_shared.contracts.topics import LIFECYCLE, NOTIFICATION
from crm_shared.runtime import Runtime


def register_consumers(runtime: Runtime, plans: PlanKeeper) -> None:
    lifecycle = LifecycleHandlers(plans)
    on_lifecycle = runtime.consumer(LIFECYCLE).on
    on_lifecycle(EnterpriseCreated)(lifecycle.enterprise_created)
    on_lifecycle(EnterpriseUpdated)(lifecycle.enterprise_updated)
    on_lifecycle(EnterpriseStageChanged)(lifecycle.stage_changed)
    on_lifecycle(EnterpriseStatusChanged)(lifecycle.status_changed)
    on_lifecycle(EnterpriseMerged)(lifecycle.merged)
    on_lifecycle(ContactAdded)(lifecycle.contact_added)
    on_lifecycle(ContactUpdated)(lifecycle.contact_updated)
    on_lifecycle(ContactConsentChanged)(lifecycle.consent_changed)
    on_lifecycle(ContactErased)(lifecycle.contact_erased)
    on_lifecycle(InteractionLogged)(lifecycle.interaction_logged)

    outcomes = OutcomeHandlers(plans)
    on_notification = runtime.consumer(NOTIFICATION).on
    on_notification(NotificationSent)(outcomes.sent)
    on_notification(NotificationFailed)(outcomes.failed)
    on_notification(NotificationSuppressed)(outcomes.suppressed)
    on_notification(NotificationUnsubscribed)(outcomes.unsubscribed)
