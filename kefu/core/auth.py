"""Who is acting, what their role may do, and which org units they can see.

Passwords are hashed with Argon2id. Console sessions and API tokens are random secrets of which
only the SHA-256 is stored. A principal sees the data of its own org unit and everything below it.

An API token may carry scopes that narrow its owner's role: each scope is a permission name of the
role ("tickets.read") or `inbound:<channel>` (post inbound messages on that channel only). A token
without scopes acts with the whole role. What a principal may do is always role ∩ scopes, computed
on each check, so a role change narrows every token of the user at once.
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
                        "tokens.admin", "audit.read", "inbound.post", "pii"}),
    # A channel gateway (渠道网关): a user that only posts inbound messages, through a token scoped to its
    # channels. It has no password and cannot use the console.
    "gateway": frozenset({"inbound.post"}),
}
# A domain grants its own permissions in `kefu/<domain>/permissions.py`: `GRANTS = {role: {permission, ...}}`
# (kefu.core.domains finds it), so the role table above keeps only the core's.
def _add_domain_grants() -> None:
    from kefu.core import domains

    for module in domains.modules("permissions"):
        for role, extra in module.GRANTS.items():
            PERMISSIONS[role] = PERMISSIONS[role] | frozenset(extra)


_add_domain_grants()
# "inbound.post": a channel gateway's token posts inbound messages. The admin role keeps it, so an admin
# can test a channel by hand; integrations get a `gateway` user and a token scoped `inbound:<channel>`.
INBOUND_SCOPE = "inbound:"
# Roles that may log in to the console (and use it with a session cookie).
CONSOLE_ROLES = frozenset(PERMISSIONS) - {"gateway"}


def scope_permission(scope: str) -> str:
    """The permission a scope grants: `inbound:<channel>` grants (part of) `inbound.post`."""
    return "inbound.post" if scope.startswith(INBOUND_SCOPE) else scope


def grantable_scopes(role: str, channels: tuple[str, ...]) -> list[str]:
    """Every scope a token of a user with this role may carry, in a stable order."""
    perms = PERMISSIONS.get(role, frozenset())
    out = sorted(perms)
    if "inbound.post" in perms:
        out += [INBOUND_SCOPE + c for c in channels]
    return out


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
    # The token's scopes (None: the whole role, as with a console session) and the token's id.
    scopes: frozenset[str] | None = None
    token_id: int | None = None

    def can(self, permission: str) -> bool:
        if permission not in PERMISSIONS.get(self.role, frozenset()):
            return False
        return self.scopes is None or any(scope_permission(s) == permission for s in self.scopes)

    @property
    def permissions(self) -> frozenset[str]:
        """What this principal may do (the role narrowed by the token's scopes)."""
        return frozenset(p for p in PERMISSIONS.get(self.role, frozenset()) if self.can(p))

    def can_post_inbound(self, channel: str) -> bool:
        """May post inbound messages on this channel: `inbound.post` in the role, and a token scoped to
        channels names this one (scope `inbound:<channel>`, or `inbound.post` for every channel)."""
        if not self.can("inbound.post"):
            return False
        return self.scopes is None or "inbound.post" in self.scopes or INBOUND_SCOPE + channel in self.scopes

    @property
    def can_use_console(self) -> bool:
        """Console pages check little beyond the login: only whole-role principals of console roles."""
        return self.role in CONSOLE_ROLES and self.scopes is None

    @property
    def at_group_level(self) -> bool:
        """Sits at the top of the org tree (path "/<id>/"): may change group-wide settings."""
        return self.org_path.count("/") == 2

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


_dummy_hash: tuple[int, str] | None = None


def verify_password_or_dummy(stored_hash: str | None, password: str) -> bool:
    """`verify_password`, but without a stored hash (unknown user, no password) the password is checked
    against a dummy hash of the same cost: the answer takes as long whether the account exists or not."""
    if stored_hash:
        return verify_password(stored_hash, password)
    global _dummy_hash
    if _dummy_hash is None or _dummy_hash[0] != id(_hasher):  # tests swap the hasher for a cheap one
        _dummy_hash = (id(_hasher), _hasher.hash(secrets.token_urlsafe(16)))
    verify_password(_dummy_hash[1], password)
    return False
