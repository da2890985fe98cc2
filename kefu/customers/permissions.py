"""Customers' permissions beyond the core table: "customers.link" links or unlinks a customer's addresses
(WeChat, e-mail ...) and decides link suggestions (kefu/customers/linking.py)."""

GRANTS: dict[str, set[str]] = {
    "agent": {"customers.link"},
    "supervisor": {"customers.link"},
    "admin": {"customers.link"},
}
