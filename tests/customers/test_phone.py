from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kefu.customers.phone import InvalidPhone, describe_phone, mask_phone, normalize_phone
from kefu.customers.pii import mask_email, mask_identity, mask_name


@pytest.mark.parametrize(("raw", "e164"), [
    ("13812345678", "+8613812345678"),
    ("+86 138-1234-5678", "+8613812345678"),
    ("008613812345678", "+8613812345678"),
    ("86 13812345678", "+8613812345678"),
    (" 138 1234 5678 ", "+8613812345678"),
    ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits from a Chinese IME
    ("020-12345678", "+862012345678"),  # Guangzhou fixed line
    ("(020)12345678", "+862012345678"),
    ("0755-88888888", "+8675588888888"),  # Shenzhen fixed line
    ("+44 20 7946 0958", "+442079460958"),
    ("+1 650-253-0000", "+16502530000"),
])
def test_valid_numbers_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(("raw", "message"), [
    ("12345", "'12345' is not a valid phone number: incomplete (too short, or a local number without its "
              "area code)"),
    ("1381234567x", "'1381234567x' is not a valid phone number: contains letters"),
    ("1381234567", "'1381234567' is not a valid phone number: no such number in the numbering plan of CN"),
    ("+86 12345678901", "'+86 12345678901' is not a valid phone number: no such number in the numbering plan "
                        "of CN"),
    ("138123456789", "'138123456789' is not a valid phone number: no such number in the numbering plan "
                     "of CN"),
    ("", "'' is not a valid phone number: empty"),
    ("+999 1234567", "'+999 1234567' is not a valid phone number: unknown country code"),
    ("手机13812345678", "'手机13812345678' is not a valid phone number: contains letters"),
    ("--", "'--' is not a valid phone number: not a phone number"),
])
def test_invalid_numbers_are_refused_with_a_message_naming_the_input(raw: str, message: str) -> None:
    with pytest.raises(InvalidPhone) as exc:
        normalize_phone(raw)
    assert exc.value.code == "invalid_phone"
    assert exc.value.status == 422
    assert exc.value.message == message
    assert exc.value.details["input"] == raw


@pytest.mark.parametrize(("e164", "masked"), [
    ("+8613812345678", "138****5678"),
    ("+862012345678", "020****5678"),
    ("+442079460958", "+44 207****0958"),
    ("garbage-123456789", "123****6789"),
    ("12", "**"),
    (None, None),
])
def test_mask_phone_shows_only_the_first_three_and_last_four_digits(e164: str | None,
                                                                    masked: str | None) -> None:
    assert mask_phone(e164) == masked


def test_other_personal_data_is_masked_but_channel_ids_are_not() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_email("Zhang.San@example.com") == "Z***@example.com"
    assert mask_identity("phone", "+8613912345678") == "139****5678"
    assert mask_identity("wechat_openid", "oAbC123") == "oAbC123"


def test_description_gives_issuing_region_and_carrier() -> None:
    assert describe_phone("+8613812345678") == "江苏省连云港市 中国移动"
    assert describe_phone("+8613812345678", "en") == "Lianyungang, Jiangsu China Mobile"
    assert describe_phone("+862012345678") == "广东省广州市"
    assert describe_phone(None) is None


_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_FORMATS = [phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL]


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["CN", "CN", "CN", *_REGIONS]))
    types = phonenumbers.PhoneNumberType
    kind = draw(st.sampled_from([types.MOBILE, types.FIXED_LINE]))
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    nsn = phonenumbers.national_significant_number(example)
    tail = draw(st.text(alphabet="0123456789", min_size=min(4, len(nsn)), max_size=min(4, len(nsn))))
    num = phonenumbers.parse(f"+{example.country_code}{nsn[:-len(tail)]}{tail}")
    assume(phonenumbers.is_valid_number(num))
    return phonenumbers.format_number(num, draw(st.sampled_from(_FORMATS)))


# No deadline: the suite shares busy CI machines; the property is about values, not speed.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(valid_numbers(), st.sampled_from(["CN", "US", "GB", "HK"]))
def test_normalising_an_e164_number_returns_it_unchanged(raw: str, default_region: str) -> None:
    e164 = normalize_phone(raw)
    assert e164.startswith("+")
    assert normalize_phone(e164) == e164
    assert normalize_phone(e164, default_region) == e164
