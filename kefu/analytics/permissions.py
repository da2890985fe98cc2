"""Analytics' permissions (merged into the role table by kefu.core.auth).

"analytics.wall" sees the supervisor wall of a subtree; "analytics.reports" reads KPI reports, exports
them and sees customer journeys (figures only: names and numbers stay masked without `pii`);
"analytics.admin" sets the wall's thresholds.
"""

GRANTS: dict[str, set[str]] = {
    "supervisor": {"analytics.wall", "analytics.reports"},
    "analyst": {"analytics.wall", "analytics.reports"},
    "admin": {"analytics.wall", "analytics.reports", "analytics.admin"},
}
