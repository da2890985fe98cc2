"""SLA permissions: "sla.admin" configures calendars and policies (the ticket page's SLA box needs only the ticket);
"sla.report" reads CSAT and the 7×24 coverage of one's subtree; "sla.callback" makes survey calls (回访电话): puts a
resolved ticket on the call list and records what the customer said."""

GRANTS: dict[str, set[str]] = {
    "agent": {"sla.callback"},
    "supervisor": {"sla.report", "sla.callback"},
    "analyst": {"sla.report"},
    "admin": {"sla.admin", "sla.report", "sla.callback"},
}
