"""Routing's permissions (merged into the role table by kefu.core.auth).

"routing.work" takes work (ready / not ready, answer offers); "routing.supervise" sees the queues and agents
of a subtree and moves agents; "routing.admin" configures queues and rules.
"""

GRANTS: dict[str, set[str]] = {
    "agent": {"routing.work"},
    "support": {"routing.work"},
    "expert": {"routing.work"},
    "supervisor": {"routing.work", "routing.supervise"},
    "analyst": {"routing.supervise"},
    "admin": {"routing.work", "routing.supervise", "routing.admin"},
}
