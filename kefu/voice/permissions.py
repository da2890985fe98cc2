"""Voice's permissions: "voice.admin" edits the IVR menu."""

GRANTS: dict[str, set[str]] = {
    "admin": {"voice.admin"},
}
