"""A hand-written telecom knowledge corpus (written for kefu's tests; not real operator data).

Each entry: (key, kind, title, body, category keys, tags, dates). Inserted in this order, so on a
fresh database the article ids are 1..N in both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

FUTURE = datetime(2030, 12, 31, 15, 59, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

ARTICLES: list[dict[str, object]] = [
    dict(
        key="secondary_fee",
        kind="faq",
        title="副卡每月扣费说明",
        body="副卡月功能费10元/月，从主卡账户统一扣取。副卡共享主卡套餐内的通话分钟数和流量，超出部分按标准资费收取。"
        "客户反映副卡扣费不明时，先在系统中核对副卡开通日期和共享关系。",
        cats=["number.secondary_card", "billing.unexplained_deduction"],
        tags=["副卡", "扣费"],
    ),
    dict(
        key="data_pack",
        kind="faq",
        title="流量包怎么订购",
        body="客户可通过掌上营业厅、发送短信或拨打10000号订购流量包。日包当天有效，月包当月有效，订购后立即生效，不支持退订当月已生效的流量包。",
        cats=["data.data_pack"],
        tags=["流量包"],
    ),
    dict(
        key="roaming_on",
        kind="faq",
        title="国际漫游怎么开通",
        body="出国前请开通国际漫游功能：实名客户可在掌厅一键开通，或到营业厅办理。开通后在境外开机即可自动接入当地合作运营商网络，"
        "建议同时订购国际漫游流量包，避免按标准资费产生高额流量费用。",
        cats=["roaming.activation", "roaming.international"],
        tags=["国际漫游", "出国"],
    ),
    dict(
        key="porting",
        kind="faq",
        title="携号转网的办理条件",
        body="携号转网要求号码已实名登记、无欠费、不在合约期内且在网满120天。客户先发送短信CXXZ#姓名#证件号码查询资格，"
        "再到新运营商营业厅办理，号码保持不变。",
        cats=["number.porting"],
        tags=["携号转网"],
    ),
    dict(
        key="ont_red",
        kind="network_fault",
        title="宽带断网：光猫LOS红灯闪烁的处理",
        body="光猫LOS灯红色闪烁表示光信号中断。请客户检查光纤是否弯折、插头是否松动，重启光猫后仍然红灯则派单上门维修，"
        "一般24小时内修复。",
        cats=["broadband.repair", "terminal.router"],
        tags=["光猫", "断网", "宽带"],
    ),
    dict(
        key="volte_iphone",
        kind="terminal",
        title="iPhone开启VoLTE高清通话的设置方法",
        body="设置 → 蜂窝网络 → 蜂窝数据选项 → 语音与数据，选择4G或5G并打开VoLTE。开启后通话时可同时上网，音质更清晰。",
        cats=["network.volte_5g", "terminal.handset_fault"],
        tags=["iPhone", "VoLTE", "高清通话"],
    ),
    dict(
        key="apn_android",
        kind="terminal",
        title="安卓手机APN接入点设置",
        body="手机能打电话但无法上网时，检查APN：设置 → 移动网络 → 接入点名称，新建APN为ctnet，其余保持默认。",
        cats=["network.slow_data", "terminal.handset_fault"],
        tags=["APN", "上网"],
    ),
    dict(
        key="double11",
        kind="business",
        title="双十一流量狂欢活动：充100送50GB",
        body="活动期间在掌厅充值100元赠送50GB全国通用流量，当月有效，每个号码限参与一次。",
        cats=["plan.benefits", "data.data_pack"],
        tags=["活动", "campaign"],
        valid_from=datetime(2026, 11, 1, tzinfo=UTC),
        valid_until=FUTURE,
    ),
    dict(
        key="summer_old",
        kind="business",
        title="暑期校园流量卡优惠活动",
        body="暑期新入网的校园卡客户每月赠送30GB流量，活动截止到9月30日。",
        cats=["plan.benefits"],
        tags=["活动", "campaign", "校园卡"],
        valid_from=datetime(2026, 7, 1, tzinfo=UTC),
        valid_until=datetime(2026, 11, 21, tzinfo=UTC),
    ),
    dict(
        key="typhoon_plan",
        kind="pre_handling",
        title="台风期间基站退服的预处理方案",
        body="台风导致基站停电退服时，一线统一答复：受台风影响局部区域信号中断，抢修人员正在恢复，预计恢复时间以短信通知为准；"
        "登记客户号码和位置，不做补偿承诺。",
        cats=["network.outage", "network.no_signal"],
        tags=["台风", "基站", "无信号"],
    ),
    dict(
        key="script_deduction",
        kind="script",
        title="不明扣费解释口径",
        body="您好，非常理解您对扣费的疑问。我这边已为您查询到本月扣费明细，我逐项为您说明；如确认为误扣，我们将在3个工作日内为您退还。",
        cats=["billing.unexplained_deduction"],
        tags=["扣费", "口径"],
    ),
    dict(
        key="script_outage",
        kind="script",
        title="网络故障安抚口径",
        body="非常抱歉给您带来不便，您所在区域的网络正在抢修，恢复后会第一时间短信通知您。",
        cats=["network.outage"],
        tags=["故障", "口径"],
    ),
    dict(
        key="balance",
        kind="faq",
        title="话费余额查询方法",
        body="发送短信CXYE到10001，或拨打10000按语音提示查询余额，也可以在掌上营业厅首页查看实时话费余额。",
        cats=["billing.balance_topup"],
        tags=["余额", "话费"],
    ),
    dict(
        key="resume",
        kind="faq",
        title="欠费停机后如何恢复通话",
        body="欠费停机后缴清欠费即可自动复机，一般缴费后30分钟内恢复通话和上网；超过48小时未恢复的请提交复机工单。",
        cats=["billing.overdue_suspension"],
        tags=["停机", "复机", "欠费"],
    ),
    dict(
        key="unsubscribe",
        kind="faq",
        title="如何退订增值业务",
        body="发送0000到10001可查询并退订已订购的增值业务，退订次月生效；如客户表示从未订购，按被订购流程处理并核实订购记录。",
        cats=["vas.unsubscribe", "vas.unrequested_subscription"],
        tags=["退订", "增值业务"],
    ),
    dict(
        key="realname",
        kind="faq",
        title="实名制补登记流程",
        body="未实名的号码需要携带本人身份证原件到营业厅办理实名补登记，补登记完成前号码会被限制呼出。",
        cats=["number.real_name"],
        tags=["实名制", "身份证"],
    ),
    dict(
        key="sim_swap",
        kind="faq",
        title="手机卡丢了怎么补卡",
        body="SIM卡丢失后先拨打10000挂失，再由机主携带身份证到营业厅补换卡，补卡工本费10元，新卡即时生效。",
        cats=["number.sim_replacement", "terminal.sim_fault"],
        tags=["补卡", "挂失"],
    ),
    dict(
        key="speed_cap",
        kind="faq",
        title="达量限速规则说明",
        body="不限量套餐当月使用流量达到40GB后，网速降至1Mbps，次月1日恢复；可以订购提速包立即恢复高速。",
        cats=["data.speed_cap"],
        tags=["限速", "流量"],
    ),
    dict(
        key="plan_change",
        kind="faq",
        title="5G套餐变更规则",
        body="套餐变更次月生效，合约期内只能变更为更高档次的套餐，降档需合约到期后办理。",
        cats=["plan.plan_change", "plan.contract_terms"],
        tags=["套餐", "5G"],
    ),
    dict(
        key="spam_calls",
        kind="faq",
        title="骚扰电话拦截设置",
        body="可为客户免费开通来电防火墙，自动拦截营销和诈骗号码；客户也可以发送短信举报骚扰号码。",
        cats=["spam.harassing_calls"],
        tags=["骚扰电话", "拦截"],
    ),
    dict(
        key="roaming_en",
        kind="faq",
        title="How to activate international roaming before travelling",
        body="Customers must activate international roaming before going abroad. Real-name verified customers can "
        "turn it on in the app; buy a roaming data pass to avoid high charges.",
        cats=["roaming.activation"],
        tags=["roaming", "travel"],
    ),
    dict(
        key="router_en",
        kind="faq",
        title="Resetting the Wi-Fi router password",
        body="Log in to 192.168.1.1 with the admin account printed on the router label, open Wi-Fi settings and "
        "set a new password. Restart the router afterwards.",
        cats=["terminal.router"],
        tags=["router", "wifi"],
    ),
    dict(
        key="bb_install",
        kind="business",
        title="宽带新装资费与安装时限",
        body="新装千兆宽带月费199元，含光猫和一次上门安装，受理后48小时内上门。",
        cats=["broadband.installation"],
        tags=["宽带", "装机"],
    ),
    dict(
        key="bb_move",
        kind="faq",
        title="宽带移机怎么办理",
        body="宽带移机需提前3个工作日预约，新地址须在光纤覆盖范围内，移机费100元。",
        cats=["broadband.relocation"],
        tags=["宽带", "移机"],
    ),
    dict(
        key="invoice",
        kind="faq",
        title="电子发票和账单查询",
        body="在掌厅“我的 → 账单”查看月账单，并可申请电子发票发送到邮箱。",
        cats=["billing.bill_query"],
        tags=["账单", "发票"],
    ),
]
