"""A second province and a province administrator on top of the `world` fixture."""

from __future__ import annotations

from tests.conftest import PASSWORD, World


def add_province(world: World) -> None:
    """Province 浙江 (ZJ) with city 杭州 (HZ) and an agent there; an admin of 广东 (admin_gd) and of 浙江
    (admin_zj); each with an API token in `world.tokens`."""
    from kefu.org import service as org

    with world.db.unit_of_work() as s:
        zj = org.create_org_unit(s, kind="province", code="ZJ", name="浙江", parent_id=world.units["group"])
        hz = org.create_org_unit(s, kind="city", code="HZ", name="杭州", parent_id=zj.id)
        world.units.update(zj=zj.id, hz=hz.id)
        for username, name, role, unit in [
            ("admin_gd", "广东管理员", "admin", world.units["province"]),
            ("admin_zj", "浙江管理员", "admin", zj.id),
            ("agent_hz", "杭州坐席", "agent", hz.id),
        ]:
            u = org.create_user(s, username=username, display_name=name, role=role, org_unit_id=unit,
                                password=PASSWORD)
            world.users[username] = u.id
            world.tokens[username] = org.create_api_token(s, u.id, "tests")[0]


def add_gateway(world: World, name: str = "sms_gw", unit: str = "province",
                scopes: list[str] | None = None) -> None:
    """A gateway user with a token (scoped when `scopes` is given)."""
    from kefu.org import service as org

    with world.db.unit_of_work() as s:
        u = org.create_user(s, username=name, display_name="短信网关", role="gateway",
                            org_unit_id=world.units[unit])
        world.users[name] = u.id
        world.tokens[name] = org.create_api_token(s, u.id, "gateway", scopes=scopes)[0]
