"""The counters of a fault test, on what was read back: pure functions, tested alone.

Lost: an acknowledged firm missing, a lifecycle event never published, a welcome email
or its `notification.sent` outcome missing. Duplicated: a firm twice, the same fact
under a second event id, an email sent twice. A redelivery (the same event id again)
is neither: consumers skip it; it is counted apart.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

FIRM_EVENTS = ("warmyang.enterprise.created.v1", "warmyang.contact.added.v1")
SENT = "warmyang.notification.sent.v1"


def recipients(message: EmailMessage) -> list[str]:
    return [address.lower() for _, address in getaddresses(message.get_all("To", []))]


@dataclass
class Figures:
    fault: str
    firms: int = 0
    firms_missing: int = 0
    firms_doubled: int = 0
    events: int = 0
    events_missing: int = 0
    events_redelivered: int = 0  # the same event id again: consumers skip it
    events_doubled: int = 0  # the same fact under a new id: consumers would apply it twice
    events_out_of_order: list[str] = field(default_factory=list)
    emails: int = 0
    emails_missing: int = 0
    emails_duplicated: int = 0
    outcomes_missing: int = 0  # firms whose welcome has no `notification.sent`
    outcomes_doubled: int = 0  # a second `notification.sent` (new id) for one email
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return (
            self.firms_missing + self.events_missing + self.emails_missing + self.outcomes_missing
        )

    @property
    def duplicated(self) -> int:
        return (
            self.firms_doubled
            + self.events_doubled
            + self.emails_duplicated
            + self.outcomes_doubled
        )

    def summary(self) -> str:
        return (
            f"fault={self.fault} firms={self.firms} events={self.events} lost={self.lost} "
            f"duplicated_events_redelivered={self.events_redelivered} emails={self.emails} "
            f"emails_duplicated={self.emails_duplicated} seconds={self.seconds:.0f}"
        )

    def detail(self) -> str:
        parts = [f"{k}={v}" for k, v in self.details.items()]
        return f"fault={self.fault} detail: " + " ".join(parts)

    def problems(self) -> list[str]:
        found = []
        if self.firms_missing or self.firms_doubled:
            found.append(f"firms: {self.firms_missing} missing, {self.firms_doubled} doubled")
        if self.events_missing:
            found.append(f"lifecycle events: {self.events_missing} never published")
        if self.events_doubled:
            found.append(f"lifecycle events: {self.events_doubled} emitted twice under new ids")
        if self.events_out_of_order:
            found.append(f"events out of order for firms {self.events_out_of_order[:5]}")
        if self.outcomes_missing or self.outcomes_doubled:
            found.append(
                f"notification.sent: {self.outcomes_missing} missing, "
                f"{self.outcomes_doubled} emitted twice under new ids"
            )
        if self.emails_missing or self.emails_duplicated:
            found.append(
                f"welcome emails: {self.emails_missing} missing, "
                f"{self.emails_duplicated} sent more than once"
            )
        return found


def count_emails(
    figures: Figures,
    emails: list[EmailMessage],
    expected: set[str],
    reported_unconfirmed: frozenset[str] | set[str] = frozenset(),
) -> None:
    """One email per expected recipient, none twice (by Message-ID, and by recipient).

    An email that never arrived but that the service recorded as `unconfirmed` is the
    documented window of a kill between the claim and the final "." (notification
    README, "Sent once"): shown, not counted lost. Any other missing email is a loss."""
    by_message_id = Counter(str(m["Message-ID"]) for m in emails)
    by_recipient = Counter(r for m in emails for r in recipients(m))
    figures.emails = len(by_recipient)
    missing = expected - set(by_recipient)
    figures.emails_missing = len(missing - reported_unconfirmed)
    figures.details["emails_unconfirmed_never_arrived"] = len(missing & reported_unconfirmed)
    figures.emails_duplicated = max(
        sum(n - 1 for n in by_message_id.values()), sum(n - 1 for n in by_recipient.values())
    )


def count_events(figures: Figures, records: list[Any], acknowledged: set[str], tag: str) -> None:
    """Lifecycle records of the run's firms: unique, redelivered, missing, doubled, in order."""
    per_firm: dict[str, list[dict[str, Any]]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    stray: set[str] = set()
    # Partition, then offset order: the order a consumer of one key sees.
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        key = record.key.decode() if record.key else ""
        event = json.loads(record.value)
        if key in acknowledged:
            per_firm[key].append(event)
            partitions[key].add(record.partition)
        elif event["type"] == FIRM_EVENTS[0] and tag in event["data"].get("name", ""):
            stray.add(key)  # a firm of this run nobody was told about: a double
    total = unique = 0
    for enterprise_id in acknowledged:
        events = per_firm.get(enterprise_id, [])
        first_seen: dict[str, str] = {}
        for event in events:
            first_seen.setdefault(event["id"], event["type"])
        total += len(events)
        unique += len(first_seen)
        types = list(first_seen.values())
        figures.events_missing += sum(1 for t in FIRM_EVENTS if t not in types)
        figures.events_doubled += sum(n - 1 for n in Counter(types).values())
        firsts = [t for t in dict.fromkeys(types) if t in FIRM_EVENTS]
        if len(firsts) == len(FIRM_EVENTS) and firsts != list(FIRM_EVENTS):
            figures.events_out_of_order.append(enterprise_id)
        if len(partitions[enterprise_id]) > 1:
            figures.events_out_of_order.append(f"{enterprise_id} (spread over partitions)")
    figures.events = unique
    figures.events_redelivered = total - unique
    figures.firms_doubled += len(stray)


def count_outcomes(figures: Figures, records: list[Any], acknowledged: set[str]) -> None:
    """One `notification.sent` per firm of the run (its welcome), by notification id;
    `confirmed: false` (presumed delivered after a crash) is no loss, but is shown."""
    sent: dict[str, dict[str, str]] = defaultdict(dict)  # firm -> notification id -> event id
    seen: set[str] = set()
    unconfirmed = 0
    for record in records:
        key = record.key.decode() if record.key else ""
        event = json.loads(record.value)
        if key not in acknowledged or event["type"] != SENT or event["id"] in seen:
            continue  # another run's, another kind, or a redelivery
        seen.add(event["id"])
        first = sent[key].setdefault(event["data"]["notification_id"], event["id"])
        if first != event["id"]:
            figures.outcomes_doubled += 1
        elif not event["data"].get("confirmed", True):
            unconfirmed += 1
    figures.outcomes_missing = len(acknowledged - {firm for firm, ids in sent.items() if ids})
    figures.outcomes_doubled += sum(len(ids) - 1 for ids in sent.values())
    figures.details["sent_unconfirmed"] = unconfirmed
