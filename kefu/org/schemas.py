from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body, BodyId
from kefu.core.text import Name


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginIn(Schema, Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class OrgUnitCreate(Schema, Body):
    kind: str
    code: str = Field(min_length=1, max_length=32)
    name: Name = Field(min_length=1, max_length=100)
    name_en: Name | None = None
    parent_id: BodyId | None = None


class OrgUnitRead(Schema):
    id: int
    kind: str
    code: str
    name: str
    name_en: str | None
    parent_id: int | None
    path: str


class SkillLevel(Schema, Body):
    key: str
    level: int = Field(ge=1, le=5)


class UserCreate(Schema, Body):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: Name = Field(min_length=1, max_length=100)
    role: str
    org_unit_id: BodyId
    password: str | None = Field(default=None, min_length=8, max_length=200)
    authority_limit: Decimal = Field(default=Decimal("0"), ge=0)
    skills: list[SkillLevel] = []
    locale: str = "zh-CN"


class UserRead(Schema):
    id: int
    username: str
    display_name: str
    role: str
    org_unit_id: int
    authority_limit: Decimal
    locale: str
    active: bool
    skills: dict[str, int]


class Me(UserRead):
    permissions: list[str]


class UserUpdate(Schema, Body):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    role: str | None = None
    org_unit_id: BodyId | None = None
    active: bool | None = None
    authority_limit: Decimal | None = Field(default=None, ge=0)
    locale: str | None = Field(default=None, max_length=8)
    password: str | None = Field(default=None, min_length=8, max_length=200)


class TokenCreate(Schema, Body):
    name: str = Field(min_length=1, max_length=100)
    # The owner (default: the caller): a JSON integer, never true/false (kefu/core/body.py).
    user_id: BodyId | None = None
    # Narrow the token to part of its owner's role: permission names or "inbound:<channel>".
    # Left out: the owner's whole role.
    scopes: list[str] | None = Field(default=None, max_length=64)
    # When the token stops working; default: KEFU_TOKEN_DAYS (365) days from now.
    expires_at: datetime | None = None


class TokenCreated(Schema):
    id: int
    name: str
    token: str
    created_at: datetime
    scopes: list[str] | None
    expires_at: datetime | None


class TokenRead(Schema):
    id: int
    name: str
    prefix: str
    user_id: int
    username: str
    user_display_name: str
    org_unit_id: int
    scopes: list[str] | None
    created_at: datetime
    created_by: int | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class TokenPage(Schema):
    items: list[TokenRead]
    total: int
    limit: int
    offset: int


class AuditRead(Schema):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    action: str
    object_type: str | None
    object_id: str | None
    org_unit_id: int | None
    ip: str | None
    details: dict[str, Any]


class AuditPage(Schema):
    items: list[AuditRead]
    total: int
    limit: int
    offset: int
