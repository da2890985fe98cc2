"""SLA permissions: "sla.admin" configures calendars and policies (the ticket page's SLA box needs only the ticket)."""

GRANTS: dict[str, set[str]] = {
    "admin": {"sla.admin"},
}
