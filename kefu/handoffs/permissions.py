"""Handoffs' permissions: "handoffs.send" sends a customer a link (agents), "handoffs.read" reads the
figures of the supervisor wall."""

GRANTS: dict[str, set[str]] = {
    "agent": {"handoffs.send"},
    "supervisor": {"handoffs.send", "handoffs.read"},
    "analyst": {"handoffs.read"},
    "admin": {"handoffs.send", "handoffs.read"},
}
