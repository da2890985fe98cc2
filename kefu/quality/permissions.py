"""Quality permissions: "quality.inspect" samples, scores and decides appeals in a subtree; "quality.own" sees
one's own scores and appeals them. Certification: "cert.take" studies courses and sits their exams;
"cert.admin" keeps the courses of a subtree and sees (and revokes) its certificates."""

GRANTS: dict[str, set[str]] = {
    "agent": {"quality.own", "cert.take"},
    "support": {"quality.own", "cert.take"},
    "expert": {"quality.own", "cert.take"},
    "supervisor": {"quality.inspect", "quality.own", "cert.take", "cert.admin"},
    "admin": {"quality.inspect", "quality.own", "cert.take", "cert.admin"},
}
