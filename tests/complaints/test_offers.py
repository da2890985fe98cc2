"""The fitting offer: a wrong charge is refunded, a data complaint gets a data pack, a fault gets what the
customer uses most, anything else the dominant use, else the segment's offer."""

from __future__ import annotations

from kefu.complaints.offers import fitting_offer

DATA_HEAVY = {"voice": 0.2, "data": 0.7}
VOICE_HEAVY = {"voice": 0.6, "data": 0.3}
MIXED = {"voice": 0.4, "data": 0.4}


def test_fitting_offers() -> None:
    assert fitting_offer("billing", DATA_HEAVY, "minutes") == ("refund", "charge")
    assert fitting_offer("vas", {}, None) == ("refund", "charge")
    assert fitting_offer("data", VOICE_HEAVY, "minutes") == ("data_pack", "category")
    assert fitting_offer("network", VOICE_HEAVY, None) == ("minutes", "usage")
    assert fitting_offer("broadband", DATA_HEAVY, None) == ("data_pack", "usage")
    assert fitting_offer("network", MIXED, "gift_points") == ("bill_credit", "category")
    assert fitting_offer("service", {"voice": 0.5, "data": 0.1}, "bill_credit") == ("minutes", "usage")
    assert fitting_offer(None, MIXED, "free_trial") == ("free_trial", "segment")
    assert fitting_offer("plan", {}, None) == ("gift_points", "default")
