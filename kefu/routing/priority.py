"""Initial priority, linear aging with one ceiling, and the waiting bound it gives.

An item i of queue q, enqueued at a_i with initial priority p0_i <= P (the engine's ``max_priority``),
has at time t >= a_i the priority

    p_i(t) = min(P, p0_i + r_q (t - a_i) / 60),        r_q = queue q's aging per minute >= 0.

An agent is offered, among the waiting items it is eligible for and has room for, the one with the
largest key (p_i(t), -a_i, -id_i): highest priority, then earliest arrival, then lowest id.

Theorem (no overtaking after W). Let r_q > 0 and W_i = 60 (P - p0_i) / r_q. At any time
t >= a_i + W_i while i waits, no agent that i is eligible for and fits is offered an item j that
arrived after i (a_j > a_i, or a_j = a_i and id_j > id_i). So the time during which later arrivals
can pass i is at most W_i <= W = 60 (P - min p0) / min r, whatever the load; after it, i is served in
arrival order among everything that still waits, like FIFO, and cannot starve while agents serve.

Proof. For t >= a_i + W_i, p0_i + r_q (t - a_i)/60 >= P, so p_i(t) = P. Every priority is at most P,
so p_j(t) <= p_i(t) for every j. If p_j(t) < P, j's key is smaller than i's. If p_j(t) = P, the
keys tie on priority and the next component decides: -a_j < -a_i (or, on equal arrival times,
-id_j < -id_i), so again i's key is larger. The agent is offered the eligible fitting item with the
largest key, and i is one of them, so it is not offered j. QED.

Two consequences used in the configuration:
* The green channel: with equal aging r, an item j with p0_j = p0_i + d passes an earlier i exactly when
  it arrived less than 60 d / r seconds after it (p_j(t) - p_i(t) = d - r (a_j - a_i)/60 while neither
  is capped). Diamond (+40) on a voice queue aging 60 per minute jumps standard calls of the last 40 s.
* Within one queue the order never changes while items wait (all age at the same rate until they
  reach P, in the order of u_i = 60 p0_i - r a_i, and then tie on P and stand in arrival order), which
  is why the engine keeps each queue's items in two heaps that aging never reorders: one by u
  (still rising) and one by arrival (at the ceiling). An item moves from the first to the second when
  u_i + r t >= 60 P, in the same order as the first heap pops them.

With r_q = 0 the queue is a strict priority class and has no bound: a stream of higher classes can
hold it back for ever. That is the non-preemptive priority queue of Cobham's formula
(kefu.workforce.erlang.cobham_waits), and the engine reproduces it in the simulator.
"""

from __future__ import annotations

import math

from kefu.routing.model import PriorityRules, QueueConfig, WorkItem

SECONDS_PER_MINUTE = 60.0


def initial_priority(item: WorkItem, queue: QueueConfig, rules: PriorityRules, ceiling: float) -> float:
    """p0: the queue's base plus the item's points (tier, type, category, the ticket's priority, at risk,
    repeat), at most P."""
    p = queue.base_priority + item.extra_priority
    if item.tier is not None:
        p += rules.tier.get(item.tier, 0.0)
    if item.kind is not None:
        p += rules.kind.get(item.kind, 0.0)
    if item.category is not None:
        p += rules.category.get(item.category, 0.0)
    if item.ticket_priority is not None:
        p += rules.ticket_priority.get(item.ticket_priority, 0.0)
    if item.sla_at_risk:
        p += rules.at_risk
    if item.repeat_contact:
        p += rules.repeat
    return min(p, ceiling)


def priority_at(initial: float, aging_per_minute: float, waited: float, ceiling: float) -> float:
    """p(t) = min(P, p0 + rate x minutes waited). NICE CXone's rule: initial 4, 1 per minute, 3 min: 7."""
    return min(ceiling, initial + aging_per_minute * waited / SECONDS_PER_MINUTE)


def overtaking_bound(initial: float, aging_per_minute: float, ceiling: float) -> float:
    """W_i: seconds after which no later arrival passes an item (infinite without aging)."""
    if initial >= ceiling:
        return 0.0
    if aging_per_minute <= 0:
        return math.inf
    return SECONDS_PER_MINUTE * (ceiling - initial) / aging_per_minute


def jump_ahead(extra: float, aging_per_minute: float) -> float:
    """Seconds of earlier arrivals (same queue) that an item with ``extra`` more initial priority passes."""
    if aging_per_minute <= 0:
        return math.inf
    return SECONDS_PER_MINUTE * extra / aging_per_minute
