"""The summary tables kept from events (kefu/analytics/summary.py): every event that can change a contact
(opened, answered, ended, corrected by the switch, put in a routing queue, its ticket classified or given
another category by hand, its customer's tier changed) has its interaction observed again. Observing is
idempotent, so a redelivered event changes nothing. A second consumer keeps the complaint, appeal and
first-contact summary (kefu/analytics/quality.py, with the return and path summaries of the journeys) from
the tickets', interactions' and handoffs' events; a third the handoff summary (kefu/analytics/handoffs.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session, SessionTransaction

from kefu.core.db import among
from kefu.core.events import Event, bus

INTERACTION_EVENTS = ("interaction.opened", "interaction.updated", "interaction.closed", "message.sent")
ROUTING_EVENTS = ("routing.offered", "routing.offer_accepted", "routing.overflowed")
TICKET_EVENTS = ("ticket.classified", "ticket.updated")
CUSTOMER_EVENTS = ("customer.tier_changed", "customer.tiers_recomputed")
#: A customer's birth year set or changed moves their contacts to another age band (the contact summaries only).
AGE_EVENTS = ("customer.updated",)


# What a consumer's transaction observed already (summary.observe's and quality.observe's `seen`): a batch of
# events often names one interaction or ticket several times (a new contact's ticket.created and
# interaction.opened; ticket.classified and the ticket.updated of the category it applied), and the consumers
# write only facts and sums, never what those are computed from. Forgotten when any transaction or savepoint
# of the session ends, so a batch rolled back and run again event by event observes everything again.
_SEEN = "kefu_analytics_seen"


def _seen(session: Session, kind: str) -> Any:
    memo: dict[str, set[Any]] = session.info.setdefault(_SEEN, {})
    return memo.setdefault(kind, set())


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_seen(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_SEEN, None)


def interactions_of(session: Session, event: Event) -> list[int]:
    """The interactions whose contact the event may have changed."""
    from kefu.interactions.models import Interaction
    from kefu.routing.models import RoutingItem

    if event.name in INTERACTION_EVENTS:
        iid = event.aggregate_id if event.aggregate_type == "interaction" else event.payload.get("interaction_id")
        return [int(iid)] if iid is not None else []
    if event.name in ROUTING_EVENTS:
        item = event.payload.get("item_id")
        if item is None:
            return []
        iid = session.scalar(select(RoutingItem.interaction_id).where(RoutingItem.id == int(item)))
        return [int(iid)] if iid is not None else []
    if event.name == "ticket.updated" and "category_id" not in (event.payload.get("changed") or ()):
        return []  # a new subject or priority moves no contact
    if event.name in TICKET_EVENTS and event.aggregate_type == "ticket" and event.aggregate_id is not None:
        return list(session.scalars(select(Interaction.id).where(Interaction.ticket_id == event.aggregate_id)))
    if event.name in AGE_EVENTS and "birth_year" not in (event.payload.get("fields") or ()):
        return []
    if event.name in ("customer.tier_changed", *AGE_EVENTS) and event.aggregate_id is not None:
        return list(session.scalars(select(Interaction.id).where(Interaction.customer_id == event.aggregate_id)))
    if event.name == "customer.tiers_recomputed" and not event.payload.get("per_customer_events", True):
        # too many customers changed for an event each: the contacts counted under a tier their customer
        # no longer has
        from kefu.analytics.models import ContactFact
        from kefu.customers.models import Customer

        return list(session.scalars(
            select(ContactFact.interaction_id)
            .join(Interaction, Interaction.id == ContactFact.interaction_id)
            .join(Customer, Customer.id == Interaction.customer_id)
            .where(ContactFact.tier != func.coalesce(Customer.tier, ""))))
    return []


def on_contact_events(session: Session, events: list[Event]) -> None:
    """:func:`on_contact_event` of a batch of events: the interactions they name (the routing items' and the
    tickets' in one query each) observed at once (summary.observe reads them with one query a table)."""
    from kefu.analytics import summary
    from kefu.interactions.models import Interaction
    from kefu.routing.models import RoutingItem

    ids: set[int] = set()
    items: set[int] = set()
    tickets: set[int] = set()
    for event in events:
        if event.name in ROUTING_EVENTS:
            if event.payload.get("item_id") is not None:
                items.add(int(event.payload["item_id"]))
        elif event.name in TICKET_EVENTS and event.aggregate_type == "ticket" and event.aggregate_id is not None:
            if event.name != "ticket.updated" or "category_id" in (event.payload.get("changed") or ()):
                tickets.add(int(event.aggregate_id))
        else:
            ids.update(interactions_of(session, event))
    for part in summary.chunks(sorted(items)):
        ids.update(i for i in session.scalars(select(RoutingItem.interaction_id)
                                              .where(among(session, RoutingItem.id, part))) if i is not None)
    for part in summary.chunks(sorted(tickets)):
        ids.update(session.scalars(select(Interaction.id).where(among(session, Interaction.ticket_id, part))))
    if ids:
        summary.observe(session, ids, seen=_seen(session, "contacts"))


@bus.consumer("analytics.summaries", *INTERACTION_EVENTS, *ROUTING_EVENTS, *TICKET_EVENTS,
              *CUSTOMER_EVENTS, *AGE_EVENTS, db_only=True, batch=on_contact_events)
def on_contact_event(session: Session, event: Event) -> None:
    from kefu.analytics import summary

    ids = interactions_of(session, event)
    if ids:
        summary.observe(session, ids, seen=_seen(session, "contacts"))


QUALITY_TICKET_EVENTS = ("ticket.created", "ticket.updated", "ticket.classified", "ticket.replied",
                         "ticket.transitioned", "ticket.merged")
QUALITY_INTERACTION_EVENTS = ("interaction.opened", "interaction.updated", "interaction.closed")
#: A handoff offered puts the customer's complaints and appeals of the BEFORE_DAYS after on a handed-off path.
QUALITY_HANDOFF_EVENTS = ("handoff.offered",)


def on_quality_events(session: Session, events: list[Event]) -> None:
    """:func:`on_quality_event` of a batch of events, observing all they name at once (quality.observe reads
    the facts of all of them with one query a table): the tickets' and interactions' neighbours, their
    contacts and tickets are read with one query each for the batch. A customer's event (rare) is handled
    on its own."""
    from kefu.analytics import quality
    from kefu.interactions.models import Interaction
    from kefu.routing.models import RoutingItem

    ticket_refs: set[int] = set()
    contact_refs: set[int] = set()
    items: set[int] = set()
    handoff_refs: set[int] = set()
    for event in events:
        if event.name in CUSTOMER_EVENTS:
            on_quality_event(session, event)
        elif event.name in ROUTING_EVENTS:
            if event.payload.get("item_id") is not None:
                items.add(int(event.payload["item_id"]))
        elif event.aggregate_id is None:
            continue
        elif event.name in QUALITY_TICKET_EVENTS and event.aggregate_type == "ticket":
            ticket_refs.add(int(event.aggregate_id))
        elif event.name in QUALITY_INTERACTION_EVENTS and event.aggregate_type == "interaction":
            contact_refs.add(int(event.aggregate_id))
        elif event.name in QUALITY_HANDOFF_EVENTS and event.aggregate_type == "handoff":
            handoff_refs.add(int(event.aggregate_id))
    if items:
        contact_refs.update(i for i in session.scalars(select(RoutingItem.interaction_id).where(
            among(session, RoutingItem.id, sorted(items)))) if i is not None)
    i = Interaction
    tickets = quality.neighbours_of_tickets(session, ticket_refs) if ticket_refs else []
    contacts = quality.neighbours_of_contacts(session, contact_refs) if contact_refs else []
    if ticket_refs:  # a ticket's contacts (counted under its category)
        contacts += session.scalars(select(i.id).where(among(session, i.ticket_id, sorted(ticket_refs))))
    if contact_refs:  # a contact's ticket (counted under its first contact's queue and agent)
        tickets += (t for t in session.scalars(select(i.ticket_id).where(among(session, i.id, sorted(contact_refs))))
                    if t is not None)
        tickets += quality.tickets_after(session, i, contact_refs)  # their paths
    if handoff_refs:
        from kefu.handoffs.models import Handoff

        tickets += quality.tickets_after(session, Handoff, handoff_refs)
    quality.observe(session, tickets=tickets, contacts=contacts, seen=_seen(session, "quality"))


@bus.consumer("analytics.quality", *QUALITY_TICKET_EVENTS, *QUALITY_INTERACTION_EVENTS, *CUSTOMER_EVENTS,
              *ROUTING_EVENTS, *QUALITY_HANDOFF_EVENTS, db_only=True, batch=on_quality_events)
def on_quality_event(session: Session, event: Event) -> None:
    """The complaint / appeal / first-contact summary (kefu/analytics/quality.py): a ticket's event observes
    it, the customer's complaints of the month after and the ticket's contacts (counted under its category);
    an interaction's the interaction and the customer's contacts of the week before, and its ticket (counted
    under its first contact's queue and agent), a routing event's the same for its interaction; an
    interaction's or a handoff's also the customer's complaints and appeals of the two weeks after (their
    channel path); a customer's new tier their complaints, appeals and contacts (counted under their tier)."""
    from kefu.analytics import quality
    from kefu.interactions.models import Interaction
    from kefu.tickets.models import Ticket

    if event.name == "customer.tiers_recomputed" and not event.payload.get("per_customer_events", True):
        quality.observe(session, **quality.off_tier(session), seen=_seen(session, "quality"))
        return
    if event.aggregate_id is None and event.name not in ROUTING_EVENTS:
        return
    ref = int(event.aggregate_id or 0)
    if event.name in QUALITY_HANDOFF_EVENTS and event.aggregate_type == "handoff":
        from kefu.handoffs.models import Handoff

        quality.observe(session, tickets=quality.tickets_after(session, Handoff, [ref]), seen=_seen(session, "quality"))
        return
    if event.name in QUALITY_TICKET_EVENTS and event.aggregate_type == "ticket":
        quality.observe(session, tickets=quality.neighbours_of_ticket(session, ref),
                        contacts=session.scalars(select(Interaction.id).where(Interaction.ticket_id == ref)),
                        seen=_seen(session, "quality"))
    elif event.name in ROUTING_EVENTS or (event.name in QUALITY_INTERACTION_EVENTS
                                          and event.aggregate_type == "interaction"):
        for iid in interactions_of(session, event) if event.name in ROUTING_EVENTS else [ref]:
            ticket = session.scalar(select(Interaction.ticket_id).where(Interaction.id == iid))
            quality.observe(session, contacts=quality.neighbours_of_contact(session, iid),
                            tickets=[*([ticket] if ticket is not None else []),
                                     *quality.tickets_after(session, Interaction, [iid])],
                            seen=_seen(session, "quality"))
    elif event.name == "customer.tier_changed":
        quality.observe(session, tickets=session.scalars(select(Ticket.id).where(Ticket.customer_id == ref)),
                        contacts=session.scalars(select(Interaction.id).where(Interaction.customer_id == ref)),
                        seen=_seen(session, "quality"))


@bus.consumer("analytics.occupancy", "routing.agent_presence_changed")
def on_presence_event(session: Session, event: Event) -> None:
    """Agents' presence time per hour (kefu/analytics/occupancy.py)."""
    from kefu.analytics import occupancy

    user, presence = event.payload.get("user_id"), event.payload.get("presence")
    if user is not None and presence:
        occupancy.observe(session, int(user), str(presence), event.occurred_at)


@bus.consumer("analytics.surveys", "survey.sent", "survey.answered")
def on_survey_event(session: Session, event: Event) -> None:
    """The satisfaction summary (kefu/analytics/satisfaction.py): the survey sent or answered."""
    from kefu.analytics import satisfaction

    survey = event.payload.get("survey_id")
    if survey is not None:
        satisfaction.observe(session, [int(survey)], seen=_seen(session, "surveys"))


def on_handoff_events(session: Session, events: list[Event]) -> None:
    """:func:`on_handoff_event` of a batch: the handoffs and interactions it names observed at once."""
    from kefu.analytics import handoffs

    refs = {kind: sorted({int(e.aggregate_id) for e in events
                          if e.aggregate_type == kind and e.aggregate_id is not None})
            for kind in ("handoff", "interaction")}
    handoffs.observe(session, handoffs=refs["handoff"], calls=refs["interaction"], seen=_seen(session, "handoffs"))


@bus.consumer("analytics.handoffs", "handoff.offered", "handoff.opened", "handoff.completed", "handoff.returned",
              "interaction.opened", "interaction.updated", db_only=True, batch=on_handoff_events)
def on_handoff_event(session: Session, event: Event) -> None:
    """The handoff summary (kefu/analytics/handoffs.py): a handoff's event observes the handoff, an
    interaction's the interaction (an inbound hotline call: the handoff rate's denominator)."""
    on_handoff_events(session, [event])
