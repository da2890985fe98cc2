"""Phone numbers: normalised to E.164 with `phonenumbers` (Google's libphonenumber data), masked for
roles without the `pii` permission, described (region, carrier) from the library's offline data.

Pure: no database, no clock.
"""

from __future__ import annotations

from typing import overload

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult, carrier, geocoder

from kefu.core.errors import InvalidInput

MAX_INPUT = 64

_WHY = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        "incomplete (too short, or a local number without its area code)",
}
_PARSE_WHY = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


class InvalidPhone(InvalidInput):
    code = "invalid_phone"


def _refuse(raw: str, why: str) -> InvalidPhone:
    return InvalidPhone(f"'{raw}' is not a valid phone number: {why}", details={"input": raw, "reason": why})


def parse_phone(raw: str, default_region: str = "CN") -> phonenumbers.PhoneNumber:
    """The parsed number if it is a valid, complete number; InvalidPhone otherwise."""
    text = (raw or "").strip()
    if not text:
        raise _refuse(raw, "empty")
    if len(text) > MAX_INPUT:
        raise _refuse(raw[:MAX_INPUT] + "…", "too long")
    # phonenumbers reads letters as vanity digits or an extension marker ("1381234567x"); we take neither.
    if any(ch.isalpha() for ch in text):
        raise _refuse(raw, "contains letters")
    try:
        num = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        raise _refuse(raw, _PARSE_WHY.get(exc.error_type, "not a phone number")) from None
    if num.extension:
        raise _refuse(raw, "extensions are not accepted")
    if not phonenumbers.is_valid_number(num):
        reason = phonenumbers.is_possible_number_with_reason(num)
        region = phonenumbers.region_code_for_country_code(num.country_code or 0)
        raise _refuse(raw, _WHY.get(reason, f"no such number in the numbering plan of {region}"))
    return num


def normalize_phone(raw: str, default_region: str = "CN") -> str:
    """E.164 ("+8613812345678") for a valid mobile, fixed-line or international number."""
    return phonenumbers.format_number(parse_phone(raw, default_region), PhoneNumberFormat.E164)


def is_phone_like(raw: str) -> bool:
    """True when the text looks like a number someone typed (for search), valid or not."""
    digits = [ch for ch in raw if ch.isdigit()]
    return bool(digits) and all(ch.isdigit() or ch in "+-() " for ch in raw.strip())


def _mask_digits(digits: str) -> str:
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) <= 7:
        return "****" + digits[-2:]
    return digits[:3] + "****" + digits[-4:]


@overload
def mask_phone(e164: str) -> str: ...
@overload
def mask_phone(e164: None) -> None: ...
def mask_phone(e164: str | None) -> str | None:
    """`+8613812345678` → `138****5678`; `+862012345678` → `020****5678`; `+442079460958` → `+44 207****0958`.

    Never raises and never reveals more than the first 3 and last 4 digits, whatever it is given.
    """
    if e164 is None:
        return None
    try:
        num = phonenumbers.parse(e164, "CN")
    except NumberParseException:
        return _mask_digits("".join(ch for ch in e164 if ch.isdigit()))
    if num.country_code == 86:
        national = phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL)
        return _mask_digits("".join(ch for ch in national if ch.isdigit()))
    return f"+{num.country_code} " + _mask_digits(phonenumbers.national_significant_number(num))


def describe_phone(e164: str | None, lang: str = "zh") -> str | None:
    """Where the number is registered and with which carrier: "江苏省连云港市 中国移动", "London".

    None when the library knows nothing. For mobile numbers the region is where the number was
    issued (号码归属地), which is not where the subscriber is.
    """
    if not e164:
        return None
    try:
        num = phonenumbers.parse(e164, "CN")
    except NumberParseException:
        return None
    region = geocoder.description_for_number(num, lang)
    operator = carrier.name_for_number(num, lang)
    text = " ".join(part for part in (region, operator) if part)
    return text or None
