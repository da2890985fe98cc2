"""App push (掌厅): replies and notices to a customer's app through a JPush-compatible push API, faked on
loopback with its authentication, aliases and rate limit; each push's status kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kefu.channels import config
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from tests.channels.fake_social import FakePush, serve
from tests.channels.outbox import delivery, jobs_with, retry_at, settle
from tests.channels.support import post_inbound
from tests.channels.test_wechat import _reply
from tests.conftest import World

KEY, SECRET = "25b7c3d0a1e4f5a6b7c8d9e0", "0f1e2d3c4b5a69788796a5b4"


@pytest.fixture
def push() -> Iterator[FakePush]:
    with serve(FakePush(KEY, SECRET, aliases={"u-1001"})) as f:
        yield f


@pytest.fixture
def account(world: World, settings: Settings, push: FakePush) -> Iterator[None]:
    with world.db.unit_of_work() as s:
        config.save(s, settings, org_unit_id=world.units["province"], channel="app",
                    form={"app_push_key": KEY, "app_push_secret": SECRET, "app_push_base": push.base},
                    actor_id=None, at=utcnow())
    with jobs_with(settings.model_copy(update={"outbound_backoff_seconds": 10.0})):
        yield


def test_a_reply_to_an_in_app_message_is_pushed_to_the_customers_app(client: TestClient, world: World,
                                                                     account: None, push: FakePush) -> None:
    r = post_inbound(client, world, "app", message_id="app-1", sender="u-1001", text="流量包怎么退订？")
    assert r.status_code in (200, 201), r.text
    push.busy = 1  # rate limited: tried again later
    mid = _reply(client, world, "在 App「我的-已订业务」中即可退订。")
    settle(world)
    d = delivery(world, mid)
    assert (d.status, d.last_error) == ("queued", "app push 429 2002: Rate limit exceeded")
    assert d.next_attempt_at is not None
    retry_at(world, d.next_attempt_at)
    assert delivery(world, mid).status == "sent"
    [sent] = push.pushed
    assert sent["audience"] == {"alias": ["u-1001"]}
    assert sent["notification"]["alert"] == "在 App「我的-已订业务」中即可退订。"
    assert sent["notification"]["android"]["extras"] == {"kefu_message_id": mid, "kind": "reply"}


def test_a_customer_without_the_app_on_a_device_fails_for_good(client: TestClient, world: World, account: None,
                                                             push: FakePush) -> None:
    post_inbound(client, world, "app", message_id="app-2", sender="u-2002", text="你好")
    mid = _reply(client, world, "您好")
    settle(world)
    d = delivery(world, mid)
    assert (d.status, d.attempts, d.last_error) == ("failed", 1,
                                                    "app push 400 1011: cannot find user by this audience")
    assert push.pushed == []
