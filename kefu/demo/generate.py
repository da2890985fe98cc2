"""A fictional demo operator, generated from a seed: pure, no database, no clock.

"示例通信 Demo Telecom": a group, one province (广东) and its cities; people in every role; subscribers
with realistic names, numbers, plans and value; a day of contacts across channels with Chinese texts.
The same seed gives the same operator, byte for byte (`random.Random(seed)`, no sets, no clock).
Times are timezone-aware UTC; the traffic follows a local (Asia/Shanghai) intraday profile.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

CST = timezone(timedelta(hours=8), "CST")
DEMO_PASSWORD = "kefu-demo-2026"
GROUP_CODE = "DEMO"

# Mirror of the default tier rules seeded by the 0001_core migration (first match wins); the demo
# uses them only to check that its value distribution reaches every tier.
DEFAULT_TIER_RULES: tuple[tuple[str, Decimal, int], ...] = (
    ("diamond", Decimal("300"), 60),
    ("gold", Decimal("158"), 24),
    ("silver", Decimal("88"), 12),
    ("standard", Decimal("0"), 0),
)

SKILLS: tuple[tuple[str, str, str], ...] = (
    ("billing", "话费与账单", "Billing"),
    ("data", "流量", "Data"),
    ("network", "网络与信号", "Network"),
    ("broadband", "宽带与固网", "Broadband"),
    ("plan", "套餐与资费", "Plans"),
    ("vas", "增值业务", "VAS"),
    ("roaming", "漫游", "Roaming"),
    ("terminal", "终端", "Terminals"),
    ("number", "号码与实名", "Numbers"),
    ("service", "服务质量", "Service quality"),
)

# Mobile prefixes by carrier (MSISDN ranges in use); the demo customers are all on "our" network but
# ported-in numbers (携号转网) keep their original prefix, so every carrier's ranges appear.
PREFIXES: dict[str, tuple[str, ...]] = {
    "mobile": (
        "134",
        "135",
        "136",
        "137",
        "138",
        "139",
        "147",
        "150",
        "151",
        "152",
        "157",
        "158",
        "159",
        "178",
        "182",
        "183",
        "184",
        "187",
        "188",
        "198",
    ),
    "unicom": ("130", "131", "132", "155", "156", "166", "175", "176", "185", "186"),
    "telecom": ("133", "153", "173", "177", "180", "181", "189", "199"),
}
CARRIER_WEIGHTS = (("mobile", 0.86), ("unicom", 0.08), ("telecom", 0.06))

CHANNEL_MIX: tuple[tuple[str, float], ...] = (
    ("voice", 0.46),
    ("sms", 0.11),
    ("wechat", 0.14),
    ("app", 0.10),
    ("web", 0.06),
    ("email", 0.04),
    ("weibo", 0.03),
    ("webchat", 0.06),
)

# Contacts per local hour (relative): quiet night, peaks 10:00-11:00 and 15:00-16:00.
HOURLY_PROFILE: tuple[float, ...] = (
    0.5,
    0.3,
    0.2,
    0.15,
    0.15,
    0.3,
    0.8,
    1.8,
    4.0,
    6.4,
    8.0,
    7.4,
    5.2,
    4.8,
    6.6,
    7.8,
    7.2,
    6.2,
    5.0,
    4.8,
    4.6,
    3.8,
    2.6,
    1.3,
)

# --------------------------------------------------------------------------------------------
# What the generator produces


@dataclass(frozen=True)
class UnitSpec:
    code: str
    kind: str
    name: str
    name_en: str
    parent: str | None
    weight: float = 0.0  # share of subscribers (cities)


@dataclass(frozen=True)
class PersonSpec:
    username: str
    display_name: str
    role: str
    unit: str
    title: str
    authority_limit: int = 0
    skills: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class CustomerSpec:
    phone: str  # E.164
    name: str
    unit: str
    plan: str
    arpu: Decimal
    tenure_months: int
    share_voice: float
    share_data: float
    share_sms: float
    share_vas: float
    identities: tuple[tuple[str, str], ...] = ()  # (kind, value) besides the phone number
    birth_year: int | None = None  # None: not known (the reports' age band 不详)

    @property
    def tier(self) -> str:
        return tier_for(self.arpu, self.tenure_months)


@dataclass(frozen=True)
class ContactSpec:
    """One customer contact and what happens to it (its "fate") after it arrives."""

    seq: int
    customer: int  # index into Demo.customers
    channel: str
    sender_kind: str
    sender: str
    at: datetime  # offered, UTC
    category: str  # "billing.unexplained_deduction"
    type: str  # inquiry | complaint | request | suggestion
    subject: str
    body: str
    external_id: str
    # new | assigned | in_progress | waiting_customer | waiting_support | resolved | closed | merged |
    # abandoned | self_served | followup
    fate: str
    agent: str | None = None
    reply: str | None = None
    queue_seconds: int | None = None
    talk_seconds: int | None = None
    parent: int | None = None  # seq of the contact a follow-up belongs to
    backlog: bool = False  # a complaint from earlier days (deadline at risk or overdue)


@dataclass
class Demo:
    seed: int
    day: date  # the local (CST) day of the traffic
    units: list[UnitSpec] = field(default_factory=list)
    people: list[PersonSpec] = field(default_factory=list)
    customers: list[CustomerSpec] = field(default_factory=list)
    contacts: list[ContactSpec] = field(default_factory=list)


def tier_for(arpu: Decimal, tenure_months: int) -> str:
    for tier, min_arpu, min_tenure in DEFAULT_TIER_RULES:
        if arpu >= min_arpu and tenure_months >= min_tenure:
            return tier
    return "standard"


# --------------------------------------------------------------------------------------------
# Organisation

CITIES: tuple[tuple[str, str, str, float], ...] = (
    ("GZ", "广州", "Guangzhou", 0.24),
    ("SZ", "深圳", "Shenzhen", 0.24),
    ("DG", "东莞", "Dongguan", 0.15),
    ("FS", "佛山", "Foshan", 0.14),
    ("HZ", "惠州", "Huizhou", 0.08),
    ("ST", "汕头", "Shantou", 0.08),
    ("ZH", "珠海", "Zhuhai", 0.07),
)


def _units() -> list[UnitSpec]:
    units = [
        UnitSpec(GROUP_CODE, "group", "示例通信集团", "Demo Telecom Group", None),
        UnitSpec(f"{GROUP_CODE}-GD", "province", "示例通信广东公司", "Demo Telecom Guangdong", GROUP_CODE),
    ]
    for code, name, name_en, w in CITIES:
        units.append(
            UnitSpec(
                f"{GROUP_CODE}-GD-{code}", "city", f"{name}分公司", f"{name_en} branch", f"{GROUP_CODE}-GD", w
            )
        )
    return units


def _people(rng: random.Random) -> list[PersonSpec]:
    prov = f"{GROUP_CODE}-GD"
    city = {c[0]: f"{GROUP_CODE}-GD-{c[0]}" for c in CITIES}
    ppl = [
        PersonSpec("admin", "系统管理员", "admin", GROUP_CODE, "系统管理员", 100000),
        PersonSpec("analyst01", _person_name(rng), "analyst", GROUP_CODE, "服务质量分析师"),
        PersonSpec("sup01", _person_name(rng), "supervisor", prov, "值班经理", 2000, (("service", 5),)),
        PersonSpec(
            "sup02", _person_name(rng), "supervisor", city["GZ"], "班长 (广州)", 500, (("service", 4),)
        ),
        PersonSpec(
            "sup03", _person_name(rng), "supervisor", city["SZ"], "班长 (深圳)", 500, (("service", 4),)
        ),
        PersonSpec(
            "sup04", _person_name(rng), "supervisor", city["DG"], "班长 (东莞)", 500, (("service", 4),)
        ),
        PersonSpec("billing01", _person_name(rng), "support", prov, "计费支撑", 0, (("billing", 5),)),
        PersonSpec(
            "billing02", _person_name(rng), "support", prov, "计费支撑", 0, (("billing", 4), ("vas", 4))
        ),
        PersonSpec(
            "network01", _person_name(rng), "support", prov, "网络技术", 0, (("network", 5), ("broadband", 4))
        ),
        PersonSpec(
            "network02", _person_name(rng), "support", prov, "网络技术", 0, (("network", 4), ("terminal", 4))
        ),
        PersonSpec(
            "marketing01", _person_name(rng), "support", prov, "市场营销", 0, (("plan", 5), ("vas", 3))
        ),
        PersonSpec(
            "expert01",
            _person_name(rng),
            "expert",
            GROUP_CODE,
            "集团专家 (计费)",
            0,
            (("billing", 5), ("data", 5)),
        ),
        PersonSpec(
            "expert02",
            _person_name(rng),
            "expert",
            prov,
            "省专家 (网络)",
            0,
            (("network", 5), ("broadband", 5), ("terminal", 4)),
        ),
        PersonSpec(
            "expert03",
            _person_name(rng),
            "expert",
            prov,
            "省专家 (投诉处理)",
            0,
            (("service", 5), ("number", 5), ("roaming", 4)),
        ),
    ]
    # Frontline agents: spread over the cities roughly by traffic, each with a few skills.
    agent_cities = ["GZ"] * 6 + ["SZ"] * 6 + ["DG"] * 3 + ["FS"] * 3 + ["HZ"] * 2 + ["ST"] * 2 + ["ZH"] * 2
    keys = [s[0] for s in SKILLS if s[0] != "service"]
    for i, code in enumerate(agent_cities, start=1):
        seniority = rng.choices((1, 2, 3), weights=(4, 4, 2))[0]
        picked = rng.sample(keys, rng.randint(2, 4))
        skills = [(k, max(1, min(5, seniority + rng.randint(0, 2)))) for k in picked]
        skills.append(("service", min(5, seniority + 1)))
        limit = {1: 50, 2: 100, 3: 200}[seniority]
        title = {1: "一线客服", 2: "一线客服 (资深)", 3: "一线客服 (骨干)"}[seniority]
        ppl.append(
            PersonSpec(
                f"agent{i:02d}", _person_name(rng), "agent", city[code], title, limit, tuple(sorted(skills))
            )
        )
    return ppl


# --------------------------------------------------------------------------------------------
# Subscribers

SURNAMES: tuple[tuple[str, float], ...] = (
    ("陈", 7.0),
    ("李", 6.5),
    ("黄", 6.0),
    ("张", 5.5),
    ("梁", 4.0),
    ("刘", 4.5),
    ("林", 4.0),
    ("王", 5.0),
    ("吴", 3.0),
    ("杨", 3.0),
    ("何", 2.5),
    ("郭", 2.0),
    ("周", 2.0),
    ("罗", 2.0),
    ("郑", 2.0),
    ("谢", 1.8),
    ("叶", 1.8),
    ("钟", 1.6),
    ("邓", 1.6),
    ("冯", 1.4),
    ("曾", 1.4),
    ("蔡", 1.3),
    ("许", 1.2),
    ("赖", 1.0),
    ("朱", 1.2),
    ("徐", 1.2),
    ("孙", 1.0),
    ("胡", 1.0),
    ("卢", 1.0),
    ("苏", 1.0),
    ("潘", 1.0),
    ("丘", 0.6),
    ("麦", 0.6),
    ("冼", 0.4),
    ("温", 0.7),
    ("萧", 0.6),
    ("彭", 0.8),
    ("唐", 0.8),
    ("韩", 0.6),
    ("马", 0.8),
    ("欧阳", 0.3),
    ("司徒", 0.15),
    ("赵", 1.0),
    ("邱", 0.8),
    ("袁", 0.6),
    ("江", 0.6),
    ("方", 0.6),
    ("莫", 0.5),
)
GIVEN: str = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯婷雪琳晨"
    "欣怡子涵梓轩俊杰嘉豪家明颖诗雅佳琪思远晓东振华锦荣彩凤少珍永健国强丽珠燕玲海燕伟雄"
)


def _person_name(rng: random.Random) -> str:
    s: str = rng.choices([n for n, _ in SURNAMES], weights=[w for _, w in SURNAMES])[0]
    n = 1 if rng.random() < 0.25 else 2
    return s + "".join(rng.choice(GIVEN) for _ in range(n))


# (name, monthly fee, weight, data-heavy 0..1)
PLANS: tuple[tuple[str, int, float, float], ...] = (
    ("神州行 8元卡", 8, 9.0, 0.2),
    ("青春卡 29元", 29, 12.0, 0.8),
    ("畅享套餐 58元", 58, 20.0, 0.6),
    ("畅享套餐 88元", 88, 15.0, 0.6),
    ("5G智享套餐 129元", 129, 10.0, 0.7),
    ("畅享套餐 128元", 128, 6.0, 0.6),
    ("5G智享套餐 169元", 169, 5.0, 0.7),
    ("畅享套餐 188元", 188, 3.5, 0.5),
    ("家庭融合 199元", 199, 4.0, 0.5),
    ("5G智享套餐 239元", 239, 2.0, 0.7),
    ("畅享套餐 288元", 288, 1.2, 0.5),
    ("全球通 388元", 388, 1.0, 0.4),
    ("5G尊享套餐 599元", 599, 0.4, 0.5),
)


def _phone(rng: random.Random, used: set[str]) -> str:
    carriers, weights = [c for c, _ in CARRIER_WEIGHTS], [w for _, w in CARRIER_WEIGHTS]
    while True:
        prefix = rng.choice(PREFIXES[rng.choices(carriers, weights=weights)[0]])
        number = f"+86{prefix}{rng.randrange(10**8):08d}"
        if number not in used:
            used.add(number)
            return number


def _mix(rng: random.Random, data_heavy: float) -> tuple[float, float, float, float]:
    raw = [
        rng.gammavariate(2.0 + 3 * (1 - data_heavy), 1.0),
        rng.gammavariate(2.0 + 6 * data_heavy, 1.0),
        rng.gammavariate(0.6, 1.0),
        rng.gammavariate(0.5, 1.0),
    ]
    total = sum(raw)
    v, d, s = (math.floor(x / total * 1000) / 1000 for x in raw[:3])  # down, so the four add up to 1
    return v, d, s, round(1.0 - v - d - s, 3)


def _birth_year(rng: random.Random, year: int, tenure_months: int) -> int | None:
    """A plausible birth year: one in eight unknown, else an adult of 42 ± 14 (18 to 85), old enough to have
    subscribed at 16."""
    if rng.random() < 0.125:
        return None
    age = min(85, max(18, round(rng.gauss(42, 14)), tenure_months // 12 + 16))
    return year - age


def _customer(rng: random.Random, i: int, used_phones: set[str]) -> CustomerSpec:
    cities, weights = zip(*((c[0], c[3]) for c in CITIES), strict=True)
    unit = f"{GROUP_CODE}-GD-{rng.choices(cities, weights=weights)[0]}"
    names, fees, pw, heavy = zip(*PLANS, strict=True)
    k = rng.choices(range(len(PLANS)), weights=pw)[0]
    # Value: the plan fee plus a right-skewed (log-normal) extra for overuse, data packs, VAS, family cards.
    extra = rng.lognormvariate(1.8, 1.1)
    arpu = Decimal(str(round(fees[k] * rng.uniform(0.85, 1.1) + extra, 2)))
    # Tenure in months: many newcomers, a long tail of 10-25 year subscribers; value grows with it.
    tenure = min(300, int(rng.expovariate(1 / 55)) + (24 if fees[k] >= 188 and rng.random() < 0.6 else 0))
    phone = _phone(rng, used_phones)
    v, d, s, x = _mix(rng, heavy[k])
    ids: list[tuple[str, str]] = []
    if rng.random() < 0.38:
        ids.append(("wechat_openid", f"oDEMO{rng.getrandbits(72):018x}"))
    if rng.random() < 0.42:
        ids.append(("app_user_id", f"app-{i:06d}"))
    if rng.random() < 0.16:
        mailer = rng.choice(("qq.com", "163.com", "139.com", "126.com", "foxmail.com", "gmail.com"))
        local = (
            f"{rng.randrange(10**8, 10**10)}" if mailer == "qq.com" else f"user{i:05d}{rng.randrange(100)}"
        )
        ids.append(("email", f"{local}@{mailer}"))
    if rng.random() < 0.09:
        ids.append(("weibo_id", f"{rng.randrange(10**9, 10**10)}"))
    if rng.random() < 0.2:  # the web chat's visitor id, remembered once the visitor logged in
        ids.append(("webchat", f"wc-{rng.getrandbits(64):016x}"))
    return CustomerSpec(
        phone=phone,
        name=_person_name(rng),
        unit=unit,
        plan=names[k],
        arpu=arpu,
        tenure_months=tenure,
        share_voice=v,
        share_data=d,
        share_sms=s,
        share_vas=x,
        identities=tuple(ids),
    )


# --------------------------------------------------------------------------------------------
# What customers write: per second-level category, a few ways to say it, with slots.

TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    # key: (ticket type, texts)
    "billing.unexplained_deduction": (
        "complaint",
        (
            "这个月话费莫名其妙多扣了{amount}元，我根本没用什么业务，{anger}",
            "话费不明扣费！账单里有一笔{amount}元的费用，谁给我开通的？",
            "我的话费怎么突然少了{amount}块？查了详单也看不懂，麻烦解释一下",
            "每个月都被扣一笔{amount}元的钱，问了几次都说不清楚，{anger}",
        ),
    ),
    "billing.bill_query": (
        "inquiry",
        (
            "想查一下{month}月的账单明细，怎么比平时贵了{amount}元",
            "请问{month}月份话费为什么是{fee}元？",
            "帮我看下上个月账单，{fee}块钱花在哪了",
        ),
    ),
    "billing.refund": (
        "request",
        ("之前说好退我{amount}元，到现在都没到账", "多扣的{amount}元什么时候退回来？等了一个星期了"),
    ),
    "billing.payment_failure": (
        "inquiry",
        ("微信缴费{amount}元显示成功了，但是话费没到账", "充值{amount}元一直没到，手机都停机了，急！"),
    ),
    "billing.overdue_suspension": (
        "request",
        ("欠费停机了，已经交了钱怎么还不能打电话？", "手机突然停机，我明明还有{amount}元余额啊"),
    ),
    "data.abnormal_usage": (
        "complaint",
        (
            "流量用得太快了，一晚上跑了{gb}个G，我手机都没怎么用！",
            "流量异常消耗，{gb}G流量两天就没了，肯定有问题",
            "为啥我的流量用得这么快？套餐才过了{days}天就提醒用完了",
            "半夜没开手机流量也在跑，{anger}",
        ),
    ),
    "data.data_pack": (
        "request",
        ("想办一个流量包，有没有{fee}块以内的？", "怎么订{gb}G的流量包？在app上找不到"),
    ),
    "data.overuse_charges": (
        "complaint",
        ("流量超了也不提醒，一下扣了我{amount}元！", "超出套餐的流量收费太贵了，{amount}元，能不能减免"),
    ),
    "data.speed_cap": (
        "inquiry",
        ("网速突然变得特别慢，是不是被限速了？", "不限量套餐用到{gb}G就限速，和当初说的不一样"),
    ),
    "network.no_signal": (
        "complaint",
        (
            "我家在{place}，手机一点信号都没有，打电话都要跑到阳台",
            "{place}这边从昨天开始就没信号了，怎么回事？",
        ),
    ),
    "network.weak_coverage": (
        "complaint",
        ("{place}地下车库信号太差了，经常打不出电话", "信号差得要命，在{place}上班一格信号都没有"),
    ),
    "network.call_drops": (
        "complaint",
        ("打电话老是掉线，一天掉了{n}次，{anger}", "通话中总是断，说两句就没声音了，在{place}"),
    ),
    "network.slow_data": (
        "complaint",
        ("4G网速慢得像2G，刷个视频都卡", "5G手机在{place}网速只有几百K，这正常吗？"),
    ),
    "network.outage": (
        "complaint",
        ("{place}整片都断网了，什么时候能恢复？", "突然没网了，周围邻居也一样，是不是基站坏了"),
    ),
    "broadband.installation": (
        "request",
        ("新房子在{place}，想装宽带，多久能上门？", "预约的宽带装机师傅没来，等了一整天"),
    ),
    "broadband.repair": (
        "request",
        ("宽带光猫红灯闪，上不了网，麻烦派人来修", "家里宽带坏了{days}天了，报修了还没人来"),
    ),
    "broadband.slow_unstable": (
        "complaint",
        (
            "宽带老掉线，晚上打游戏一直断，{anger}",
            "办的{mbps}M宽带，测速只有{low}M，宽带掉线还特别频繁",
            "宽带一到晚上八点就卡，网课都上不了",
        ),
    ),
    "broadband.relocation": ("request", ("搬家到{place}，宽带可以移机吗？要多少钱？",)),
    "plan.plan_change": (
        "request",
        (
            "我想把套餐换成{plan}，下个月生效可以吗？",
            "套餐变更：现在的套餐太贵了，想改便宜一点的",
            "能不能帮我改成{plan}？流量不够用",
        ),
    ),
    "plan.contract_terms": (
        "inquiry",
        ("合约期还有{n}个月，现在改套餐要违约金吗？", "当初办合约机说好的每月返{amount}元，怎么没返？"),
    ),
    "plan.promotion_not_honoured": (
        "complaint",
        ("参加的充{fee}送{amount}活动，送的话费一直没到", "营业厅说办了送{gb}G流量，结果根本没有，{anger}"),
    ),
    "plan.plan_advice": (
        "inquiry",
        ("我每个月流量用{gb}G左右，有什么合适的套餐推荐？", "老人用的话有没有便宜点的套餐？"),
    ),
    "vas.unrequested_subscription": (
        "complaint",
        (
            "被订购了增值业务！我从来没订过什么{sp}，每月扣{amount}元",
            "莫名其妙多了个{sp}，谁给我开的？要求退订并退费",
            "查账单发现被开通了{sp}，已经扣了好几个月了，{anger}",
        ),
    ),
    "vas.unsubscribe": ("request", ("帮我把{sp}退订了", "怎么取消{sp}？发短信退订没用")),
    "vas.ringback_tone": ("request", ("彩铃不想要了，怎么关掉？",)),
    "roaming.international": (
        "inquiry",
        ("下周去{country}出差，国际漫游怎么开通？", "在{country}用流量要多少钱一天？有没有漫游包"),
    ),
    "roaming.charges": (
        "complaint",
        (
            "去了一趟{country}回来，国际漫游扣了{amount}元！太离谱了",
            "在{country}没怎么用手机，漫游费却有{amount}元",
        ),
    ),
    "terminal.sim_fault": (
        "request",
        ("手机突然显示无SIM卡，换了手机也一样", "SIM卡坏了读不出来，需要去哪里换？"),
    ),
    "terminal.router": (
        "request",
        ("光猫一直重启，能不能换一个新的？", "路由器WiFi信号很弱，你们送的光猫是不是有问题"),
    ),
    "number.porting": (
        "request",
        (
            "我想携号转网，需要什么条件？",
            "携号转网查询说我不符合条件，为什么？我合约已经到期了",
            "办携号转网被一直挽留，就是不给办，{anger}",
        ),
    ),
    "number.sim_replacement": ("request", ("手机丢了，要补卡，能不能在网上办？", "补换卡要带什么证件？")),
    "number.real_name": ("inquiry", ("收到短信说我的号码需要重新实名登记，是真的吗？",)),
    "number.cancellation": ("request", ("副卡不用了，想销户", "这个号码想注销，要去营业厅吗？")),
    "service.attitude": (
        "complaint",
        (
            "昨天打客服热线，那个客服服务态度很差，说话不耐烦",
            "营业厅工作人员服务态度太差了，爱理不理的，{anger}",
            "你们的客服一直打断我说话，问题也没解决",
        ),
    ),
    "service.hotline_reach": (
        "complaint",
        ("热线打了{n}次都没人接，等了二十分钟", "人工客服太难打了，一直排队"),
    ),
    "service.slow_response": (
        "complaint",
        ("上周反映的问题到现在都没人回复，{anger}", "投诉了{days}天了还没处理，效率太低"),
    ),
    "service.promise_broken": ("complaint", ("上次客服说三天内回电话，结果根本没人联系我",)),
    "spam.spam_sms": (
        "complaint",
        ("每天收到好多垃圾短信，能不能帮忙拦截？", "老是收到贷款广告短信，烦死了"),
    ),
    "spam.harassing_calls": ("complaint", ("天天有推销电话打来，怎么屏蔽骚扰电话？",)),
    "spam.marketing": ("suggestion", ("你们的营销短信太多了，建议少发点", "别再打电话推销套餐了，我不需要")),
}
# How often each category comes up (relative), roughly like a provincial hotline's mix.
CATEGORY_WEIGHTS: dict[str, float] = {
    "billing.unexplained_deduction": 9,
    "billing.bill_query": 8,
    "billing.refund": 3,
    "billing.payment_failure": 3,
    "billing.overdue_suspension": 3,
    "data.abnormal_usage": 8,
    "data.data_pack": 4,
    "data.overuse_charges": 3,
    "data.speed_cap": 3,
    "network.no_signal": 3,
    "network.weak_coverage": 4,
    "network.call_drops": 2,
    "network.slow_data": 3,
    "network.outage": 1.5,
    "broadband.installation": 2,
    "broadband.repair": 3,
    "broadband.slow_unstable": 5,
    "broadband.relocation": 1,
    "plan.plan_change": 8,
    "plan.contract_terms": 2,
    "plan.promotion_not_honoured": 2,
    "plan.plan_advice": 3,
    "vas.unrequested_subscription": 5,
    "vas.unsubscribe": 3,
    "vas.ringback_tone": 1,
    "roaming.international": 2,
    "roaming.charges": 1,
    "terminal.sim_fault": 1.5,
    "terminal.router": 1.5,
    "number.porting": 2,
    "number.sim_replacement": 2,
    "number.real_name": 1,
    "number.cancellation": 1,
    "service.attitude": 2,
    "service.hotline_reach": 1.5,
    "service.slow_response": 1.5,
    "service.promise_broken": 1,
    "spam.spam_sms": 1.5,
    "spam.harassing_calls": 1,
    "spam.marketing": 1,
}
CATEGORY_NAMES: dict[str, str] = {
    "billing": "话费",
    "data": "流量",
    "network": "信号",
    "broadband": "宽带",
    "plan": "套餐",
    "vas": "增值业务",
    "roaming": "漫游",
    "terminal": "终端",
    "number": "号码",
    "service": "服务",
    "spam": "骚扰",
}
OPENERS = (
    "",
    "",
    "你好，",
    "您好，",
    "喂，",
    "客服你好，",
    "请问一下，",
    "在吗？",
    "麻烦问下，",
    "小姐姐你好，",
)
CLOSERS = ("", "", "", "谢谢", "谢谢！", "麻烦尽快处理。", "急！！", "？？？", "请尽快给我回复", "等你们回复")
ANGER = ("太过分了", "再不处理我就投诉到工信部", "我要投诉", "你们怎么回事", "真的很无语", "能不能给个说法")
PLACES = (
    "天河区体育西",
    "白云区嘉禾望岗",
    "南山区科技园",
    "宝安区西乡",
    "龙岗区坂田",
    "禅城区祖庙",
    "南海区桂城",
    "东莞长安镇",
    "东莞松山湖",
    "珠海香洲",
    "惠州大亚湾",
    "汕头金平区",
    "番禺区大学城",
    "福田区车公庙",
)
SPS = ("视频会员", "手机报", "游戏点券包", "音乐包", "阅读会员", "云盘会员", "彩铃包")
COUNTRIES = ("泰国", "日本", "新加坡", "马来西亚", "美国", "韩国", "澳大利亚", "英国")
FOLLOWUPS = (
    "怎么还没人处理？",
    "我上午已经说过了，到底能不能解决？",
    "还在等回复",
    "补充一下：今天又出现了",
    "你们看到了吗？",
    "已经过去几个小时了",
    "好的，那我等通知",
    "还有一个问题，顺便问下",
)
REPLIES = {
    "billing": "您好，已为您查询话费明细，相关费用正在核实，核实后24小时内短信通知您。",
    "data": "您好，已为您查询近三天流量使用详单，建议关闭后台自动更新；异常部分已提交核查。",
    "network": "您好，已记录您反映的位置与现象，网络部门将在48小时内排查并回复。",
    "broadband": "您好，已为您预约装维师傅上门，请保持电话畅通。",
    "plan": "您好，已为您办理套餐变更预约，次月1日生效，届时将短信提醒。",
    "vas": "您好，已为您退订该增值业务，本月相关费用将在3个工作日内退回。",
    "roaming": "您好，已为您开通国际漫游，可在掌厅订购当地流量包，更优惠。",
    "terminal": "您好，请携带身份证到就近营业厅免费补换SIM卡/光猫。",
    "number": "您好，办理条件已通过短信发送给您，如有疑问欢迎随时联系。",
    "service": "非常抱歉给您带来不好的体验，已将情况反馈班长，24小时内专人回访。",
    "spam": "您好，已为您开通骚扰拦截服务，也可将号码举报至12321。",
}


def _fill(rng: random.Random, text: str) -> str:
    slots = {
        "amount": str(rng.choice((5, 8, 10, 15, 20, 29, 30, 50, 68, 100, 120, 200, 380))),
        "fee": str(rng.choice((19, 30, 58, 88, 100, 128, 158, 200))),
        "month": str(rng.randint(1, 12)),
        "gb": str(rng.choice((2, 5, 10, 20, 30, 40, 60))),
        "days": str(rng.randint(2, 9)),
        "n": str(rng.randint(3, 12)),
        "mbps": str(rng.choice((100, 300, 500, 1000))),
        "low": str(rng.choice((5, 10, 20, 30))),
        "place": rng.choice(PLACES),
        "sp": rng.choice(SPS),
        "country": rng.choice(COUNTRIES),
        "plan": rng.choice([p[0] for p in PLANS[2:9]]),
        "anger": rng.choice(ANGER),
    }
    return text.format(**slots)


def _text(rng: random.Random, category: str) -> tuple[str, str, str]:
    """(ticket type, subject, body) for one contact about `category`."""
    typ, texts = TEMPLATES[category]
    core = _fill(rng, rng.choice(texts))
    closer = rng.choice(CLOSERS)
    if closer and core[-1] not in "，。！？!?" and closer[0] not in "，。！？":
        core += "，" if closer[-1] not in "！？" else ""
    body = f"{rng.choice(OPENERS)}{core}{closer}"
    subject = core if len(core) <= 30 else core[:29] + "…"
    return typ, subject, body


# --------------------------------------------------------------------------------------------
# A day of traffic

# Where a contact ends up, by ticket-bearing contacts (relative weights).
FATES: tuple[tuple[str, float], ...] = (
    ("new", 12),
    ("assigned", 12),
    ("in_progress", 14),
    ("waiting_customer", 9),
    ("waiting_support", 8),
    ("resolved", 22),
    ("closed", 18),
    ("merged", 3),
)
# The identity a channel knows its senders by (as channels.inbound does); other channels: the phone number.
SENDER_KIND = {
    "wechat": "wechat_openid",
    "app": "app_user_id",
    "email": "email",
    "weibo": "weibo_id",
    "webchat": "webchat",
    "im": "qq",
}


def _at(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(range(24), weights=HOURLY_PROFILE)[0]
    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), CST)
    return local.astimezone(UTC)


def _pick(rng: random.Random, pool: Sequence[int], taken: set[int]) -> int:
    """A customer from `pool` not in a case yet (any, once the pool is used up); marks it taken."""
    for _ in range(30):
        i = pool[rng.randrange(len(pool))]
        if i not in taken:
            break
    taken.add(i)
    return i


def generate(
    *, seed: int = 2026, customers: int = 5000, contacts: int = 3000, day: date = date(2026, 11, 22)
) -> Demo:
    """The demo operator for `seed`; `contacts` is the day's traffic on `day` (local date, CST)."""
    rng = random.Random(seed)
    demo = Demo(seed=seed, day=day, units=_units())
    demo.people = _people(rng)
    used: set[str] = set()
    demo.customers = [_customer(rng, i, used) for i in range(customers)]
    born = random.Random(seed * 7919 + 1)  # a stream of its own: the rest of the operator is as before
    demo.customers = [replace(c, birth_year=_birth_year(born, day.year, c.tenure_months)) for c in demo.customers]
    if customers == 0:
        return demo

    agents_by_unit: dict[str, list[str]] = {}
    for p in demo.people:
        if p.role == "agent":
            agents_by_unit.setdefault(p.unit, []).append(p.username)
    all_agents = [p.username for p in demo.people if p.role == "agent"]
    by_kind: dict[str, list[int]] = {}
    for i, c in enumerate(demo.customers):
        for kind, _ in c.identities:
            by_kind.setdefault(kind, []).append(i)
    channels, cw = zip(*CHANNEL_MIX, strict=True)
    cats = list(CATEGORY_WEIGHTS)
    catw = [CATEGORY_WEIGHTS[k] for k in cats]
    fates, fw = zip(*FATES, strict=True)

    # Each customer appears in one case only (follow-ups aside), so that every contact's fate plays out on
    # a ticket of its own rather than on another contact's open ticket.
    taken: set[int] = set()
    out: list[ContactSpec] = []
    n_backlog = max(2, contacts // 150)
    n_follow = contacts // 8
    n_day = max(0, contacts - n_backlog - n_follow)
    for seq in range(n_day):
        ch = rng.choices(channels, weights=cw)[0]
        kind = SENDER_KIND.get(ch, "phone")
        pool = by_kind.get(kind)
        if kind != "phone" and not pool:
            ch, kind = "sms", "phone"
        ci = _pick(rng, pool if kind != "phone" and pool else range(len(demo.customers)), taken)
        cust = demo.customers[ci]
        sender = cust.phone if kind == "phone" else next(v for k, v in cust.identities if k == kind)
        cat = rng.choices(cats, weights=catw)[0]
        typ, subject, body = _text(rng, cat)
        at = _at(rng, day)
        queue_s = talk_s = None
        # The first few contacts go through every fate, so that even a small demo shows each status.
        forced = seq < 2 * len(fates)
        fate = fates[seq % len(fates)] if forced else rng.choices(fates, weights=fw)[0]
        if ch == "voice":
            roll = 1.0 if forced else rng.random()
            queue_s = int(rng.expovariate(1 / 25))
            if roll < 0.22:  # served by the IVR menu (balance, bill, data left)
                fate, queue_s = "self_served", None
                cat, (typ, subject, body) = "billing.bill_query", _text(rng, "billing.bill_query")
            elif roll < 0.30:
                fate, queue_s = "abandoned", queue_s + rng.randint(5, 90)
            else:
                talk_s = int(rng.lognormvariate(5.3, 0.5))
        if seq in (2 * len(fates), 2 * len(fates) + 1):  # and at least one of each call ending
            ch, kind, fate = "voice", "phone", ("self_served", "abandoned")[seq % 2]
            sender, queue_s, talk_s = cust.phone, (None if fate == "self_served" else 40), None
        agent = None  # who takes the case (for a call: who answered it)
        if fate not in ("self_served", "abandoned") and (fate != "new" or ch == "voice"):
            agent = rng.choice(agents_by_unit.get(cust.unit) or all_agents)
        reply = (
            REPLIES[cat.split(".")[0]]
            if fate in ("in_progress", "waiting_customer", "waiting_support", "resolved", "closed")
            else None
        )
        out.append(
            ContactSpec(
                seq=seq,
                customer=ci,
                channel=ch,
                sender_kind=kind,
                sender=sender,
                at=at,
                category=cat,
                type=typ,
                subject=subject,
                body=body,
                external_id=f"demo-{seed}-{seq}",
                fate=fate,
                agent=agent,
                reply=reply,
                queue_seconds=queue_s,
                talk_seconds=talk_s,
            )
        )
    # Returning senders: a second message later the same day on an open, not yet answered case.
    open_parents = [c for c in out if c.fate in ("new", "assigned") and c.channel != "voice"]
    seq = len(out)
    for _ in range(min(n_follow, len(open_parents))):
        parent = open_parents.pop(rng.randrange(len(open_parents)))
        day_end = datetime.combine(day, time(23, 59, 59), CST).astimezone(UTC)
        at = min(day_end, parent.at + timedelta(minutes=rng.randint(10, 300)))
        out.append(
            ContactSpec(
                seq=seq,
                customer=parent.customer,
                channel=parent.channel,
                sender_kind=parent.sender_kind,
                sender=parent.sender,
                at=at,
                category=parent.category,
                type=parent.type,
                subject=parent.subject,
                body=rng.choice(FOLLOWUPS),
                external_id=f"demo-{seed}-{seq}",
                fate="followup",
                parent=parent.seq,
            )
        )
        seq += 1
    # Complaints from earlier days still open: past the risk point (day 12 of 15), and overdue.
    complaint_cats = [k for k in cats if TEMPLATES[k][0] == "complaint"]
    for j in range(n_backlog):
        ci = _pick(rng, range(len(demo.customers)), taken)
        cust = demo.customers[ci]
        cat = rng.choice(complaint_cats)
        _, subject, body = _text(rng, cat)
        # Seen from the day after `day`, 13 days back is 12-14 days old (at risk), 17+ is overdue.
        days_ago = 13 if j % 2 == 0 else rng.randint(17, 24)
        at = _at(rng, day - timedelta(days=days_ago - 1))
        fate = ("assigned", "in_progress", "waiting_support")[j % 3]
        agent = rng.choice(agents_by_unit.get(cust.unit) or all_agents)
        out.append(
            ContactSpec(
                seq=seq,
                customer=ci,
                channel="voice",
                sender_kind="phone",
                sender=cust.phone,
                at=at,
                category=cat,
                type="complaint",
                subject=subject,
                body=body,
                external_id=f"demo-{seed}-{seq}",
                fate=fate,
                agent=agent,
                reply=None,
                queue_seconds=int(rng.expovariate(1 / 25)),
                talk_seconds=int(rng.lognormvariate(5.3, 0.5)),
                backlog=True,
            )
        )
        seq += 1
    out.sort(key=lambda c: (c.at, c.seq))
    demo.contacts = out
    return demo
