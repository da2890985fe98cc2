"""Fixtures of the console tests shared here: a real server and a browser (tests/web/conftest.py); and every
test here counts "today" away from local midnight (the wall's test failed in a CI run at 00:05 in China,
its calls of ten minutes before falling on yesterday)."""

import pytest

from tests.web.conftest import browser, live_server  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _today_away_from_midnight(away_from_midnight):  # type: ignore[no-untyped-def]
    return away_from_midnight
