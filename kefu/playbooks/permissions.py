"""Playbooks' permissions (merged into the role table by kefu.core.auth).

"playbooks.read" sees the runs that concern the holder's branch and completes the steps it owns;
"playbooks.run" (duty managers) starts and ends runs by hand and informs customers; "playbooks.admin" keeps
the definitions.
"""

GRANTS: dict[str, set[str]] = {
    "agent": {"playbooks.read"},
    "support": {"playbooks.read"},
    "expert": {"playbooks.read"},
    "supervisor": {"playbooks.read", "playbooks.run"},
    "analyst": {"playbooks.read"},
    "admin": {"playbooks.read", "playbooks.run", "playbooks.admin"},
}
