"""Complaints' permissions (merged into the role table by kefu.core.auth).

"complaints.read" sees what the classifier said; "complaints.review" confirms or corrects it (one click on
the ticket page); "complaints.surges" sees complaint surges.
"""

GRANTS: dict[str, set[str]] = {
    "agent": {"complaints.read", "complaints.review"},
    "support": {"complaints.read", "complaints.review"},
    "expert": {"complaints.read", "complaints.review"},
    "supervisor": {"complaints.read", "complaints.review", "complaints.surges"},
    "analyst": {"complaints.read", "complaints.surges"},
    "admin": {"complaints.read", "complaints.review", "complaints.surges"},
}
