"""Collaboration's permissions (merged into the role table by kefu.core.auth).

"collab.consult" asks consults from a ticket; "collab.answer" answers consults addressed to the holder (and
makes them a possible addressee and team member); "collab.admin" keeps the expert teams; "collab.suggest"
submits frontline suggestions; "collab.review" reviews the suggestions owned by the holder's department.
"""

GRANTS: dict[str, set[str]] = {
    "agent": {"collab.consult", "collab.suggest"},
    "support": {"collab.consult", "collab.answer", "collab.suggest", "collab.review"},
    "expert": {"collab.consult", "collab.answer", "collab.suggest", "collab.review"},
    "supervisor": {"collab.consult", "collab.answer", "collab.suggest", "collab.review"},
    "analyst": {"collab.suggest"},
    "admin": {"collab.consult", "collab.answer", "collab.admin", "collab.suggest", "collab.review"},
}
