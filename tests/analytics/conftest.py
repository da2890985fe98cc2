"""Fixtures of the console tests shared here: a real server and a browser (tests/web/conftest.py)."""

from tests.web.conftest import browser, live_server  # noqa: F401 (fixtures)
