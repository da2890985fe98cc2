"""The browser fixtures of the console tests (a real server, Chromium)."""

from tests.web.conftest import browser, live_server

__all__ = ["browser", "live_server"]
