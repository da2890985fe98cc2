"""Masking of personal data for roles without the `pii` permission (PIPL): profile fields, and the ID and
phone numbers in free text. Pure."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, overload

import phonenumbers
from pydantic import PlainSerializer

from kefu.core.privacy import must_mask
from kefu.customers.phone import mask_phone


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 欧阳娜娜 → 欧***, Li Wei → L*****: the first character only."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_email(address: str) -> str:
    """zhang.san@example.com → z***@example.com."""
    local, at_sign, domain = address.rpartition("@")
    if not at_sign:
        return "***"
    return (local[:1] or "") + "***@" + domain


def mask_identity(kind: str, value: str) -> str:
    """Phone numbers and e-mail addresses are masked; channel ids (openid, Weibo id ...) are opaque
    pseudonyms and shown as they are so an agent can match a conversation."""
    if kind == "phone":
        return mask_phone(value)
    if kind == "email":
        return mask_email(value)
    return value


# ---- personal numbers in free text ------------------------------------------------------------
#
# What a customer or an agent types into a message, a ticket, a note or a question may hold an ID number or a
# phone number. `mask_pii_text` finds them and masks them as the profile fields are masked, for roles without
# `pii`. It masks only what is one: an 18-digit 居民身份证号 with a valid birth date and check digit (GB 11643),
# a 15-digit old one with a valid birth date, a mobile number (1[3-9] and 9 digits, allocated or not), a
# landline with its area code that the national numbering plan knows, each with +86/0086/86 in front or not.
# Amounts, dates, times, order numbers and numbers run into letters or other digits are left as they are; so
# is a landline written without its area code (8 digits cannot be told from an amount or an order number).

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# first two digits of the administrative division code: provinces, Hong Kong/Macau/Taiwan (for permits)
_PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                        50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83})
_EDGE_BEFORE = r"(?<![0-9A-Za-z+*])"
_EDGE_AFTER = r"(?![0-9A-Za-z*])"
_ID_RE = re.compile(_EDGE_BEFORE + r"(?:\d{17}[\dXx]|\d{15})" + _EDGE_AFTER)
_SEP = r"[ \-]?"
_CC = r"(?:(?:\+|00)86" + _SEP + r"|86" + _SEP + r"|[(（]\+?86[)）]" + _SEP + r")"
_PHONE_RE = re.compile(
    _EDGE_BEFORE
    + r"(?:"
    + _CC + r"?(?P<mobile>1[3-9]\d(?:" + _SEP + r"\d{4}){2})"
    + r"|" + _CC + r"[(（]?0?(?P<cc_area>[1-9]\d{1,2})[)）]?" + _SEP + r"(?P<cc_local>[2-9]\d{2,3}" + _SEP + r"\d{4})"
    + r"|[(（]?0(?P<area>[1-9]\d{1,2})[)）]?" + _SEP + r"(?P<local>[2-9]\d{2,3}" + _SEP + r"\d{4})"
    + r")"
    + _EDGE_AFTER
)


def id_check_digit(first17: str) -> str:
    """The 18th character of a 居民身份证号 (ISO 7064 MOD 11-2, GB 11643-1999)."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def _valid_birth(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date(2099, 12, 31)


def is_id_number(text: str) -> bool:
    """An 18-digit ID number with a valid region, birth date and check digit, or a 15-digit old one."""
    if not text[:17].isdigit() or int(text[:2]) not in _PROVINCES:
        return False
    if len(text) == 18:
        return (_valid_birth(int(text[6:10]), int(text[10:12]), int(text[12:14]))
                and id_check_digit(text[:17]) == text[17].upper())
    return len(text) == 15 and text.isdigit() and _valid_birth(1900 + int(text[6:8]), int(text[8:10]),
                                                              int(text[10:12]))


def mask_id_number(text: str) -> str:
    """110105194912310021 → 110***********0021: the region's first three and the last four characters."""
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def _masked_id(m: re.Match[str]) -> str:
    return mask_id_number(m.group(0)) if is_id_number(m.group(0)) else m.group(0)


def _masked_phone(m: re.Match[str]) -> str:
    if m.group("mobile"):  # every 1[3-9] number is masked, whether its range is allocated yet or not
        return mask_phone("+86" + "".join(ch for ch in m.group("mobile") if ch.isdigit()))
    if m.group("cc_local"):
        national = "0" + m.group("cc_area") + m.group("cc_local")
    else:
        national = "0" + m.group("area") + m.group("local")
    national = "".join(ch for ch in national if ch.isdigit())
    try:
        number = phonenumbers.parse(national, "CN")
    except phonenumbers.NumberParseException:
        return m.group(0)
    if not phonenumbers.is_valid_number(number):
        return m.group(0)
    return mask_phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@overload
def mask_pii_text(text: str) -> str: ...
@overload
def mask_pii_text(text: None) -> None: ...
def mask_pii_text(text: str | None) -> str | None:
    """The text with every ID number and phone number in it masked (idempotent: masking twice changes
    nothing more)."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _PHONE_RE.sub(_masked_phone, _ID_RE.sub(_masked_id, text))


def _serialize_free_text(text: str) -> str:
    return mask_pii_text(text) if must_mask() else text


# A response field of free text (a message, a ticket's subject, a question): in a request by a principal
# without `pii`, ID and phone numbers in it are masked when it is sent (kefu/core/privacy.py).
FreeText = Annotated[str, PlainSerializer(_serialize_free_text, return_type=str, when_used="json")]
