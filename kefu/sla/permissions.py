"""SLA permissions: "sla.admin" configures calendars and policies (the ticket page's SLA box needs only the ticket);
"sla.report" reads CSAT and the 7×24 coverage of one's subtree; "sla.callback" makes survey calls (回访电话): puts a
resolved ticket on the call list and records what the customer said; "sla.followup" sees the unsatisfied survey
answers of one's subtree and closes their follow-up with a note."""

GRANTS: dict[str, set[str]] = {
    "agent": {"sla.callback"},
    "supervisor": {"sla.report", "sla.callback", "sla.followup"},
    "analyst": {"sla.report"},
    "admin": {"sla.admin", "sla.report", "sla.callback", "sla.followup"},
}
