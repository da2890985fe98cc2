"""SLA permissions: "sla.admin" configures calendars and policies (the ticket page's SLA box needs only the ticket);
"sla.report" reads CSAT and the 7×24 coverage of one's subtree."""

GRANTS: dict[str, set[str]] = {
    "supervisor": {"sla.report"},
    "analyst": {"sla.report"},
    "admin": {"sla.admin", "sla.report"},
}
