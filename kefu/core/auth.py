"""Who is acting, what their role may do, and which org units they can see.

Passwords are hashed with Argon2id. Console sessions and API tokens are random secrets of which
only the SHA-256 is stored. A principal sees the data of its own org unit and everything below it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# What each role may do. "pii" is seeing unmasked phone and ID numbers.
PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset({"tickets.read", "tickets.write", "customers.read", "interactions.read",
                        "interactions.write", "knowledge.read", "pii"}),
    # Back-office support writes and publishes knowledge (review stays mandatory: published is only
    # reachable from in_review).
    "support": frozenset({"tickets.read", "tickets.write", "customers.read", "interactions.read",
                          "knowledge.read", "knowledge.write", "knowledge.publish"}),
    "expert": frozenset({"tickets.read", "tickets.write", "customers.read", "interactions.read",
                         "knowledge.read", "knowledge.write"}),
    "supervisor": frozenset({"tickets.read", "tickets.write", "tickets.merge", "customers.read",
                             "customers.write", "interactions.read", "interactions.write", "knowledge.read",
                             "workforce.read", "workforce.write", "org.read", "pii"}),
    "analyst": frozenset({"tickets.read", "customers.read", "interactions.read", "knowledge.read",
                          "workforce.read", "workforce.write", "org.read"}),
    "admin": frozenset({"tickets.read", "tickets.write", "tickets.merge", "customers.read", "customers.write",
                        "customers.import", "customers.merge", "interactions.read", "interactions.write",
                        "knowledge.read", "knowledge.write", "knowledge.publish", "workforce.read",
                        "workforce.write", "org.read", "org.admin", "users.admin", "tiers.admin",
                        "tokens.admin", "inbound.post", "pii"}),
}
# "inbound.post": integrations (a channel gateway's token) post inbound messages; an admin grants that token.


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    org_unit_id: int
    org_path: str
    authority_limit: Decimal
    locale: str = "zh-CN"
    via_token: bool = False

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    def sees_path(self, path: str) -> bool:
        return path.startswith(self.org_path)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
