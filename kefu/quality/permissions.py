"""Quality permissions: "quality.inspect" samples, scores and decides appeals in a subtree; "quality.own" sees
one's own scores and appeals them."""

GRANTS: dict[str, set[str]] = {
    "agent": {"quality.own"},
    "support": {"quality.own"},
    "expert": {"quality.own"},
    "supervisor": {"quality.inspect", "quality.own"},
    "admin": {"quality.inspect"},
}
