"""Complaints' permissions (merged into the role table by kefu.core.auth).

"complaints.appeals" records escalations and appeals; "complaints.budgets" sets the monthly compensation
budgets of the user's units; "complaints.compensate" grants compensation within
the user's authority and decides pending ones;
"complaints.read" sees what the classifier said; "complaints.review" confirms or corrects it (one click on
the ticket page); "complaints.surges" sees complaint surges; "complaints.plans" keeps the operator's plan
catalogue (tariff advice reads it; anyone with "complaints.read" asks for advice).
"""

GRANTS: dict[str, set[str]] = {
    "agent": {"complaints.read", "complaints.review", "complaints.compensate"},
    "support": {"complaints.read", "complaints.review"},
    "expert": {"complaints.read", "complaints.review", "complaints.compensate", "complaints.appeals"},
    "supervisor": {"complaints.read", "complaints.review", "complaints.surges", "complaints.compensate",
                   "complaints.appeals", "complaints.budgets"},
    "analyst": {"complaints.read", "complaints.surges"},
    "admin": {"complaints.read", "complaints.review", "complaints.surges", "complaints.compensate",
              "complaints.appeals", "complaints.budgets", "complaints.plans"},
}
