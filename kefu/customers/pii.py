"""Masking of personal data for roles without the `pii` permission (PIPL). Pure."""

from __future__ import annotations

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
