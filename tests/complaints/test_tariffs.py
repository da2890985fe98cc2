"""Tariff advice (kefu/complaints/tariffs.py): the cheapest plan of the catalogue that covers the customer's
usage in their busiest recent month, and the saving against what they pay; none when nothing saves."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kefu.complaints.tariffs import Plan, Usage, advise, cheapest_covering, covers, usage_to_cover

CATALOGUE = (
    Plan("easy_19", "畅享 19 元", Decimal("19"), data_gb=5, minutes=100, sms=50),
    Plan("easy_39", "畅享 39 元", Decimal("39"), data_gb=20, minutes=200, sms=100),
    Plan("5g_59", "5G 智享 59 元", Decimal("59"), data_gb=40, minutes=300, sms=None),
    Plan("5g_129", "5G 尊享 129 元", Decimal("129"), data_gb=None, minutes=1000, sms=None),
)


def test_a_data_light_customer_on_an_expensive_plan_is_advised_the_cheapest_that_covers_their_busiest_month(
        ) -> None:
    months = [Usage(3.2, 80, 10), Usage(12.5, 150, 20), Usage(6.0, 120, 5)]  # 12.5 GB in the busiest month
    advice = advise(CATALOGUE, months, Decimal("129.00"), current_plan="5g_129")
    assert advice is not None
    assert (advice.plan.key, advice.monthly_saving, advice.yearly_saving) == ("easy_39", Decimal("90.00"),
                                                                              Decimal("1080.00"))


def test_only_the_last_three_months_count() -> None:
    months = [Usage(60, 900, 0), Usage(2, 50, 0), Usage(3, 60, 0), Usage(4, 90, 0)]
    assert usage_to_cover(months) == Usage(4, 90, 0)
    assert usage_to_cover([]) == Usage(0, 0, 0)


def test_unlimited_allowances_cover_anything() -> None:
    heavy = Usage(300, 900, 400)
    assert covers(CATALOGUE[3], heavy)
    assert cheapest_covering(CATALOGUE, heavy) == CATALOGUE[3]
    assert cheapest_covering(CATALOGUE, Usage(300, 2000, 0)) is None  # nothing covers 2,000 minutes


def test_no_advice_when_nothing_saves_or_the_customer_is_on_the_best_plan_already() -> None:
    months = [Usage(15, 150, 20)]
    assert advise(CATALOGUE, months, Decimal("39"), current_plan="easy_39") is None  # already the best
    assert advise(CATALOGUE, months, Decimal("39"), current_plan="other") is None  # pays the same
    assert advise(CATALOGUE, months, Decimal("30"), current_plan=None) is None  # pays less (an old offer)
    assert advise(CATALOGUE, [Usage(300, 2000, 0)], Decimal("500")) is None  # nothing covers it


def test_at_the_same_fee_the_larger_allowance_wins_whatever_the_catalogue_order() -> None:
    a = Plan("a", "A", Decimal("39"), data_gb=20, minutes=200)
    b = Plan("b", "B", Decimal("39"), data_gb=30, minutes=100)
    assert cheapest_covering([a, b], Usage(10, 50)) == b
    assert cheapest_covering([b, a], Usage(10, 50)) == b
    assert cheapest_covering([a, b], Usage(10, 150)) == a  # B does not cover 150 minutes


plans = st.lists(st.builds(Plan, key=st.text("abcdef", min_size=1, max_size=4), name=st.just("p"),
                           monthly_fee=st.decimals(0, 500, places=2),
                           data_gb=st.none() | st.floats(0, 100), minutes=st.none() | st.integers(0, 3000),
                           sms=st.none() | st.integers(0, 500)), max_size=8)
usages = st.lists(st.builds(Usage, data_gb=st.floats(0, 120), minutes=st.integers(0, 3500),
                            sms=st.integers(0, 600)), max_size=6)


@given(plans, usages, st.decimals(0, 600, places=2))
def test_the_advice_covers_every_recent_month_saves_money_and_nothing_cheaper_covers(
        catalogue: list[Plan], months: list[Usage], fee: Decimal) -> None:
    advice = advise(catalogue, months, fee)
    need = usage_to_cover(months)
    if advice is None:
        best = cheapest_covering(catalogue, need)
        assert best is None or best.monthly_fee >= fee
        return
    assert all(covers(advice.plan, m) for m in months[-3:])
    assert advice.monthly_saving == fee - advice.plan.monthly_fee > 0
    assert not [p for p in catalogue if covers(p, need) and p.monthly_fee < advice.plan.monthly_fee]
