"""The classes the classifier predicts (the labelling guide, docs/labelling.md) and how they map onto a ticket.

Pure: no database, no clock.
"""

from __future__ import annotations

import re

#: Types of a customer's text (the guide). A ticket has inquiry / complaint / request / suggestion / appeal:
#: praise and other are predicted but never applied to a ticket (it keeps its type).
TYPES: tuple[str, ...] = ("complaint", "inquiry", "request", "suggestion", "praise", "other")
TICKET_TYPE_OF: dict[str, str] = {"complaint": "complaint", "inquiry": "inquiry", "request": "request",
                                  "suggestion": "suggestion"}

#: First-level categories: the keys of the ticket category tree (migration 0001_core).
CATEGORIES: tuple[str, ...] = ("billing", "data", "network", "broadband", "plan", "vas", "roaming", "terminal",
                               "number", "service", "spam", "other")

TYPE_NAMES: dict[str, tuple[str, str]] = {
    "complaint": ("投诉", "Complaint"), "inquiry": ("咨询", "Inquiry"), "request": ("业务办理", "Request"),
    "suggestion": ("建议", "Suggestion"), "praise": ("表扬", "Praise"), "other": ("其他", "Other"),
}
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "billing": ("话费与账单", "Billing"), "data": ("流量", "Data"), "network": ("网络与信号", "Network"),
    "broadband": ("宽带与固网", "Broadband"), "plan": ("套餐与资费", "Plans"), "vas": ("增值业务", "Value-added"),
    "roaming": ("漫游", "Roaming"), "terminal": ("终端", "Terminals"), "number": ("号码与实名", "Number"),
    "service": ("服务质量", "Service"), "spam": ("骚扰与诈骗", "Spam and fraud"), "other": ("其他", "Other"),
}

# Escalation beyond the operator (the guide): the regulator, consumer bodies, media, the courts.
_ESCALATION = re.compile(
    r"工信|12300|通信管理局|通管局|信息产业部|315|12315|消协|消费者协会|消费者权益|消费者报|律师|起诉|法院|"
    r"诉讼|仲裁|媒体|曝光|日报|晚报|都市报|早报|新闻|电视台|央视|cctv|人民网|新华社|头条|记者|12321",
    re.IGNORECASE)


def escalation_terms(text: str) -> list[str]:
    """The words in `text` that name an escalation beyond the operator, in order, without repeats."""
    seen: dict[str, None] = {}
    for m in _ESCALATION.finditer(text):
        seen.setdefault(m.group(0).lower(), None)
    return list(seen)


# A grievance (the guide: a complaint is dissatisfaction with something that happened; an inquiry asks
# "without a grievance"): words that say something went wrong for the customer or that they are unhappy
# about it. Written once from the guide's definitions and the domain's complaint categories, before any
# measurement; never fitted to data. A text with none of them (and no escalation) is not applied as a
# complaint automatically: the classifier's lean towards complaints comes from its training data (Weibo
# posts to an operator's helpdesk are mostly complaints), not from the text (docs/complaints.md).
_GRIEVANCE = re.compile(
    r"投诉|不满|太差|很差|真差|差劲|垃圾|坑人|坑爹|被坑|骗|欺诈|忽悠|敷衍|推诿|态度|乱扣|多扣|扣了|扣我|被扣|"
    r"乱收|多收|收了我|重复收|退钱|赔偿|补偿|说法|凭什么|怎么回事|到底|一直|总是|老是|还没|没人|没有人|"
    r"不给|不能用|用不了|打不通|没信号|没有信号|断网|掉线|太慢|很慢|故障|坏了|失望|无语|生气|气死|恶心|"
    r"解决不了|不解决|没解决|没有解决|好几天|几天了|多次|三番|不退|不处理|没处理|拖|差评",
)


def grievance_terms(text: str) -> list[str]:
    """The words in `text` that voice a grievance (or an escalation), in order, without repeats."""
    seen: dict[str, None] = {}
    for m in _GRIEVANCE.finditer(text):
        seen.setdefault(m.group(0), None)
    for term in escalation_terms(text):
        seen.setdefault(term, None)
    return list(seen)


# How a customer asks (the guide: an inquiry "asks for information", a request "asks for an action"): question
# forms and request verbs. Written once from the guide's definitions before any measurement, never fitted to
# data; they are features the type head weighs (features.terms), not rules. A complaint asks too ("怎么回事",
# "凭什么"): what tells the two apart is learnt together with the grievance words. 查询 / 查一下 / 查下 (asking to be
# told a balance or a bill: information, the guide's inquiry) were added in the fifth round, when the model with the
# first-line markers applied "complaint" to 「查一下话费」 (docs/complaints.md).
_QUESTION = re.compile(
    r"请问|咨询|想问|问一下|问下|请教|吗|怎么|怎样|如何|多少|是否|能否|能不能|可不可以|可以不|有没有|哪里|哪儿|"
    r"哪个|哪些|什么时候|何时|几点|几号|求解|求助|求指导|需要什么|要什么|查询|查一下|查下",
)
_REQUEST = re.compile(
    r"办理|开通|取消|退订|关闭|申请|变更|更改|更换|改成|换成|转成|升级|降级|注销|销户|补卡|过户|携号|帮我|帮忙|"
    r"我要办|我想办|我想要|麻烦|预约",
)


def question_terms(text: str) -> list[str]:
    """The question forms in `text`, in order, without repeats ("宽带资费是多少" → ["多少"])."""
    return list(dict.fromkeys(m.group(0) for m in _QUESTION.finditer(text)))


def request_terms(text: str) -> list[str]:
    """The request verbs in `text`, in order, without repeats ("帮我取消彩铃" → ["帮我", "取消"])."""
    return list(dict.fromkeys(m.group(0) for m in _REQUEST.finditer(text)))


# Thanks or praise, and proposals (the guide's praise and suggestion types): written once from the guide's definitions
# before any measurement, never fitted to data. Features the type head weighs when they open the customer's text
# with no grievance in that first line (features.terms(first_turn=True)), not rules.
_PRAISE = re.compile(r"谢谢|感谢|赞|点赞|满意|好评|表扬|辛苦")
_SUGGESTION = re.compile(r"建议|希望|能不能增加|可以增加|应该")


def praise_terms(text: str) -> list[str]:
    """The words of thanks or praise in `text`, in order, without repeats ("谢谢，师傅很专业" → ["谢谢"])."""
    return list(dict.fromkeys(m.group(0) for m in _PRAISE.finditer(text)))


def suggestion_terms(text: str) -> list[str]:
    """The words proposing a change in `text`, in order, without repeats ("建议增加夜间流量包" → ["建议"])."""
    return list(dict.fromkeys(m.group(0) for m in _SUGGESTION.finditer(text)))


# The words the labelling guide (LABELS.md) gives for each category, specific before general: the keyword baseline
# of `kefu bench classify` (first match wins) and the category markers among the classifier's features
# (features.terms(keywords=True)). Written from the guide, never tuned on data.
CATEGORY_TERMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("roaming", ("漫游", "国际", "出国", "境外")),
    ("spam", ("垃圾短信", "骚扰", "诈骗", "推销", "营销")),
    ("vas", ("增值业务", "订阅", "订购", "彩铃", "退订", "会员")),
    ("number", ("实名", "销户", "补卡", "携号转网", "过户", "换卡")),
    ("broadband", ("宽带", "光纤", "装机", "报修", "iptv", "光猫")),
    ("data", ("流量", "限速")),
    ("billing", ("话费", "扣费", "账单", "退费", "余额", "缴费", "充值", "扣钱")),
    ("plan", ("套餐", "资费", "合约", "活动", "权益")),
    ("network", ("信号", "覆盖", "掉线", "网络", "4g", "3g")),
    ("terminal", ("手机", "终端", "屏幕", "系统", "sim卡")),
    ("service", ("态度", "营业厅", "客服", "投诉", "人工")),
)


def category_terms(text: str) -> list[str]:
    """The categories whose guide words occur in `text`, in CATEGORY_TERMS order ("宽带欠费停机了，话费也扣了" →
    ["broadband", "billing"])."""
    low = text.lower()
    return [cat for cat, words in CATEGORY_TERMS if any(w in low for w in words)]
