"""The demo generator: pure, deterministic for a seed, realistic enough to demo every screen."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from kefu.customers.phone import normalize_phone
from kefu.customers.tiers import Rule, compute_tier
from kefu.demo.generate import (
    CST,
    DEFAULT_TIER_RULES,
    PREFIXES,
    SKILLS,
    TEMPLATES,
    generate,
)

DAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def full():  # type: ignore[no-untyped-def]
    return generate(seed=2026, day=DAY)


def test_the_same_seed_gives_the_same_operator_and_another_seed_another() -> None:
    a = generate(seed=11, customers=400, contacts=150, day=DAY)
    b = generate(seed=11, customers=400, contacts=150, day=DAY)
    c = generate(seed=12, customers=400, contacts=150, day=DAY)
    assert a == b
    assert a.customers != c.customers
    assert a.contacts != c.contacts


def test_default_demo_is_a_province_with_cities_people_customers_and_a_day_of_contacts(full) -> None:  # type: ignore[no-untyped-def]
    kinds = Counter(u.kind for u in full.units)
    assert kinds["group"] == 1
    assert kinds["province"] == 1
    assert kinds["city"] >= 5
    assert {"广州分公司", "深圳分公司", "佛山分公司", "东莞分公司", "珠海分公司"} <= {
        u.name for u in full.units
    }
    assert len(full.people) >= 30
    assert len(full.customers) == 5000
    assert 2500 <= len(full.contacts) <= 3000


def test_people_cover_every_role_with_valid_skills_and_unique_usernames(full) -> None:  # type: ignore[no-untyped-def]
    roles = Counter(p.role for p in full.people)
    assert set(roles) == {"admin", "agent", "supervisor", "support", "expert", "analyst"}
    assert roles["agent"] >= 20
    assert len({p.username for p in full.people}) == len(full.people)
    skill_keys = {k for k, _, _ in SKILLS}
    for p in full.people:
        for key, level in p.skills:
            assert key in skill_keys
            assert 1 <= level <= 5
    agents = [p for p in full.people if p.role == "agent"]
    assert all(p.skills and p.authority_limit > 0 for p in agents)
    titles = {p.title for p in full.people}
    assert {"计费支撑", "网络技术", "市场营销", "值班经理"} <= titles
    units = {u.code for u in full.units}
    assert all(p.unit in units for p in full.people)


def test_every_number_is_a_valid_unique_chinese_mobile_on_a_real_prefix(full) -> None:  # type: ignore[no-untyped-def]
    prefixes = {p for ps in PREFIXES.values() for p in ps}
    phones = [c.phone for c in full.customers]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert normalize_phone(phone) == phone
        assert phone.startswith("+86")
        assert len(phone) == 14
        assert phone[3:6] in prefixes
    carriers = Counter(next(k for k, ps in PREFIXES.items() if c.phone[3:6] in ps) for c in full.customers)
    assert carriers["mobile"] > carriers["unicom"] > 0
    assert carriers["telecom"] > 0


def test_value_is_right_skewed_and_every_tier_appears_with_diamond_rare(full) -> None:  # type: ignore[no-untyped-def]
    tiers = Counter(c.tier for c in full.customers)
    assert set(tiers) == {"diamond", "gold", "silver", "standard"}
    assert tiers["diamond"] < tiers["gold"] < tiers["standard"]
    assert tiers["diamond"] / len(full.customers) < 0.03
    arpus = sorted(float(c.arpu) for c in full.customers)
    mean, median = sum(arpus) / len(arpus), arpus[len(arpus) // 2]
    assert mean > median  # a long tail of high spenders


def test_tier_mirror_agrees_with_the_customers_domain_rules(full) -> None:  # type: ignore[no-untyped-def]
    import importlib

    seeded = importlib.import_module("kefu.migrations.versions.0001_core").TIER_RULES  # what a fresh database has
    assert [(t, Decimal(a), m) for t, a, m in seeded] == list(DEFAULT_TIER_RULES)
    rules = [Rule(t, a, m) for t, a, m in DEFAULT_TIER_RULES]
    assert all(c.tier == compute_tier(c.arpu, c.tenure_months, rules) for c in full.customers)


def test_profiles_are_complete_and_some_customers_have_other_channel_identities(full) -> None:  # type: ignore[no-untyped-def]
    for c in full.customers:
        assert c.name
        assert c.plan
        assert c.tenure_months >= 0
        assert c.arpu > 0
        shares = (c.share_voice, c.share_data, c.share_sms, c.share_vas)
        assert all(0 <= s <= 1 for s in shares)
        assert abs(sum(shares) - 1) < 0.0011
    kinds = Counter(k for c in full.customers for k, _ in c.identities)
    assert {"wechat_openid", "app_user_id", "email", "weibo_id"} <= set(kinds)
    with_ids = sum(1 for c in full.customers if c.identities)
    assert 0.3 < with_ids / len(full.customers) < 0.9
    values = [(k, v) for c in full.customers for k, v in c.identities]
    assert len(set(values)) == len(values)


def test_traffic_peaks_mid_morning_and_mid_afternoon_and_is_voice_heavy(full) -> None:  # type: ignore[no-untyped-def]
    day = [c for c in full.contacts if not c.backlog]
    start = datetime.combine(DAY, time(0), CST)
    assert all(start <= c.at < start + timedelta(days=1) for c in day)
    hours = Counter(c.at.astimezone(CST).hour for c in day)
    top = {h for h, _ in hours.most_common(4)}
    assert top & {10}
    assert top & {15}
    assert hours[3] < hours[10] / 10
    channels = Counter(c.channel for c in day)
    assert channels.most_common(1)[0][0] == "voice"
    assert {"voice", "sms", "wechat", "app", "web", "email", "weibo", "webchat"} <= set(channels)


def test_contacts_use_known_categories_chinese_texts_and_unique_message_ids(full) -> None:  # type: ignore[no-untyped-def]
    assert len({c.external_id for c in full.contacts}) == len(full.contacts)
    for c in full.contacts:
        assert c.category in TEMPLATES
        assert c.body
        assert any("\u4e00" <= ch <= "\u9fff" for ch in c.body)
        assert "{" not in c.body
        assert "}" not in c.body
        assert c.sender
    assert len({c.body for c in full.contacts}) > len(full.contacts) / 2  # colloquial variety, few repeats


def test_senders_are_the_customers_own_addresses_on_each_channel(full) -> None:  # type: ignore[no-untyped-def]
    for c in full.contacts:
        cust = full.customers[c.customer]
        if c.sender_kind == "phone":
            assert c.sender == cust.phone
        else:
            assert (c.sender_kind, c.sender) in cust.identities


def test_complaints_from_earlier_days_are_at_risk_or_overdue(full) -> None:  # type: ignore[no-untyped-def]
    backlog = [c for c in full.contacts if c.backlog]
    assert len(backlog) >= 6
    assert all(
        c.type == "complaint" and c.fate in ("assigned", "in_progress", "waiting_support") for c in backlog
    )
    next_day = datetime.combine(DAY + timedelta(days=1), time(12), CST)
    ages = [(next_day - c.at).days for c in backlog]
    assert any(12 <= a < 15 for a in ages)
    assert any(a >= 15 for a in ages)


def test_even_a_small_demo_reaches_every_ticket_fate_and_call_ending() -> None:
    small = generate(seed=5, customers=200, contacts=100, day=DAY)
    fates = {c.fate for c in small.contacts}
    assert {
        "new",
        "assigned",
        "in_progress",
        "waiting_customer",
        "waiting_support",
        "resolved",
        "closed",
        "merged",
        "self_served",
        "abandoned",
        "followup",
    } <= fates
    # each customer is in one case at most (follow-ups aside), so fates do not collide on one ticket
    cases = [c.customer for c in small.contacts if c.fate != "followup"]
    assert len(set(cases)) == len(cases)


def test_generating_no_customers_gives_the_organisation_only() -> None:
    empty = generate(customers=0, contacts=0, day=DAY)
    assert empty.customers == []
    assert empty.contacts == []
    assert len(empty.people) >= 30
