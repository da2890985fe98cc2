"""The fitting offer for a complaint (pure: no database, no clock): from what the complaint is about and the
customer's own consumption mix, else the customer's segment.

- a wrong charge (billing, value-added services) is paid back: refund;
- a data complaint: a data pack;
- a network or broadband fault: what the customer uses most (data pack or minutes) when one use dominates
  (at least half of their consumption), else a bill credit;
- anything else: the dominant use, else the segment's recommended offer, else gift points.
"""

from __future__ import annotations

from collections.abc import Mapping

DOMINANT = 0.5  # a share of consumption at or above which one use "dominates"
USE_OFFER = {"data": "data_pack", "voice": "minutes"}


def fitting_offer(category: str | None, shares: Mapping[str, float], segment_offer: str | None
                  ) -> tuple[str, str]:
    """(offer, why): why is "charge", "category", "usage", "segment" or "default"."""
    if category in ("billing", "vas"):
        return "refund", "charge"
    if category == "data":
        return "data_pack", "category"
    top = max(USE_OFFER, key=lambda k: shares.get(k, 0.0))
    dominant = shares.get(top, 0.0) >= DOMINANT
    if category in ("network", "broadband"):
        return (USE_OFFER[top], "usage") if dominant else ("bill_credit", "category")
    if dominant:
        return USE_OFFER[top], "usage"
    if segment_offer:
        return segment_offer, "segment"
    return "gift_points", "default"
