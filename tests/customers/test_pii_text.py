"""ID and phone numbers in free text are masked for roles without `pii` (kefu/customers/pii.py, pure)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kefu.customers.pii import id_check_digit, is_id_number, mask_pii_text

# ---- generators of the real things ----

mobiles = st.builds(lambda p, rest: f"1{p}{rest:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1))
# Guangzhou (8-digit numbers from 2-8), Beijing, Shenzhen, Hangzhou
landlines = st.builds(lambda area, n: f"0{area}-{n}", st.sampled_from(["20", "10", "755", "571"]),
                      st.integers(20_000_000, 89_999_999))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["110105", "440106", "310110", "510107", "650102"]))
    born = draw(st.dates(min_value=date(1930, 1, 1),
                         max_value=date(2020, 12, 31)))
    seq = draw(st.integers(0, 999))
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


chinese = st.text(alphabet=st.sampled_from("客户来电反映话费扣款不明请回电谢谢，。：的号码是"), max_size=12)
ordinary = st.one_of(
    st.builds(lambda n, c: f"{n}.{c:02d}元", st.integers(0, 99_999_999), st.integers(0, 99)),  # amounts
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.dates().map(lambda d: d.strftime("%Y%m%d")),
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    st.integers(0, 10**10 - 1).map(str),  # order numbers shorter than a phone
    st.integers(0, 10**10 - 1).map(lambda n: f"订单{n}"),
    st.just("10086"), st.just("12300"), st.just("400-810-8888"),
)
texts = st.lists(st.one_of(chinese, ordinary, mobiles, landlines, id_numbers(),
                           st.text(alphabet="0123456789 -+()*Xx86", max_size=30)), max_size=8).map("".join)


@given(texts)
def test_masking_is_idempotent(text: str) -> None:
    once = mask_pii_text(text)
    assert mask_pii_text(once) == once


@given(st.lists(st.one_of(chinese, ordinary), max_size=8).map("，".join))
def test_amounts_dates_times_and_short_numbers_are_never_masked(text: str) -> None:
    assert mask_pii_text(text) == text


@given(chinese, mobiles, chinese)
def test_a_mobile_number_in_text_keeps_only_its_first_3_and_last_4_digits(before: str, number: str,
                                                                          after: str) -> None:
    for written in (number, f"{number[:3]} {number[3:7]} {number[7:]}", f"{number[:3]}-{number[3:7]}-{number[7:]}",
                    f"+86{number}", f"+86 {number}", f"0086-{number}", f"86{number}"):
        assert mask_pii_text(before + written + after) == f"{before}{number[:3]}****{number[-4:]}{after}"


@given(chinese, landlines, chinese)
def test_a_landline_with_its_area_code_is_masked(before: str, number: str, after: str) -> None:
    area, local = number.split("-")
    masked = mask_pii_text(before + number + after)
    assert local not in masked
    assert masked == f"{before}{area[:3]}****{local[-4:]}{after}"
    assert mask_pii_text(f"{before}({area}){local}{after}") == masked
    assert mask_pii_text(f"{before}+86 {area[1:]} {local}{after}") == masked


@given(chinese, id_numbers(), chinese)
def test_an_id_number_keeps_only_its_first_3_and_last_4_characters(before: str, number: str, after: str) -> None:
    assert is_id_number(number)
    assert mask_pii_text(before + number + after) == f"{before}{number[:3]}{'*' * 11}{number[-4:]}{after}"


@given(id_numbers(), st.integers(1, 10))
def test_an_18_digit_number_with_a_wrong_check_digit_is_not_an_id(number: str, shift: int) -> None:
    wrong = "0123456789X"[("0123456789X".index(number[-1]) + shift) % 11]
    assume(wrong != number[-1])
    assert mask_pii_text(number[:-1] + wrong) == number[:-1] + wrong


@pytest.mark.parametrize(("text", "masked"), [
    ("客户电话13812345678，身份证11010519491231002X。", "客户电话138****5678，身份证110***********002X。"),
    ("旧身份证310110850101123", "旧身份证310********1123"),
    ("座机（020）87654321转", "座机020****4321转"),
    ("tel:+86-755-2345-6789", "tel:075****6789"),
    ("订单号 ID13812345678X", "订单号 ID13812345678X"),  # run into letters: an id of something else
    ("金额13800元，2024-01-01 09:30，订单2024010112", "金额13800元，2024-01-01 09:30，订单2024010112"),
    ("1381234567890", "1381234567890"),  # 13 digits: not a phone
    ("0201234567", "0201234567"),  # too short for a Guangzhou number
    ("138****5678", "138****5678"),
])
def test_examples(text: str, masked: str) -> None:
    assert mask_pii_text(text) == masked
