"""Segmentation, normalisation and full-text query building."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.knowledge.text import segment


def test_user_dictionary_splits_secondary_card_charge() -> None:
    assert segment.cut("副卡扣费") == ["副卡", "扣费"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("携号转网需要什么条件", ["携号转网", "需要", "什么", "条件"]),
        ("国际漫游流量包怎么退订", ["国际漫游", "流量包", "怎么", "退订"]),
        ("5G套餐达量限速", ["5g", "套餐", "达量限速"]),
    ],
)
def test_telecom_terms_stay_whole(text: str, words: list[str]) -> None:
    assert segment.cut(text) == words


def test_normalize_folds_width_case_traditional_and_punctuation() -> None:
    assert segment.normalize("ＶｏＬＴＥ高清通話，怎麼開通？！") == "volte 高清通话 怎么开通"
    assert segment.normalize("<b>话费</b>&nbsp;查询") == "话费 查询"
    assert segment.normalize("话费？", keep_punct=True) == "话费?"


def test_pieces_are_overlapping_bigrams_and_latin_words() -> None:
    assert segment.fts_pieces("5G流量包，猫") == "5g 流量 量包 猫"
    assert segment.char_bigrams("宽带掉线") == ["宽带", "带掉", "掉线"]


def test_query_terms_drop_stopwords_and_particles() -> None:
    assert segment.query_terms("副卡怎么收费了") == ["副卡", "收费"]
    assert segment.query_terms("我的流量咋用的这么快") == ["流量"]
    assert segment.query_terms("？？？") == []


def test_query_builders() -> None:
    assert segment.fts5_query("流量包怎么退订") == '"流量 量包" OR "退订"'
    assert segment.tsquery("流量包怎么退订") == "('流量' <-> '量包') | '退订'"
    assert segment.fts5_query("卡") == '"卡"*'
    assert segment.tsquery("卡") == "'卡':*"
    assert segment.fts5_query("!!! ...") is None
    assert segment.tsquery("<p></p>") is None


def _fts5() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE faq USING fts5(pieces, tokenize='unicode61')")
    docs = ["副卡每月收取功能费10元", "流量包退订请发送短信", "宽带经常掉线请报修", "AND OR NOT NEAR"]
    db.executemany(
        "INSERT INTO faq(rowid, pieces) VALUES (?, ?)",
        [(i, segment.fts_pieces(d)) for i, d in enumerate(docs)],
    )
    return db


def test_fts5_query_finds_documents_in_sqlite() -> None:
    db = _fts5()
    for query, rowid in (("副卡怎么收费了", 0), ("怎么退订流量包", 1), ("宽带老掉线", 2)):
        expr = segment.fts5_query(query)
        rows = db.execute("SELECT rowid FROM faq WHERE faq MATCH ? ORDER BY bm25(faq)", (expr,)).fetchall()
        assert rows[0][0] == rowid


_nasty = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="\"'()*:^-+{}[]<>!&|\\/.,;?？！。，、 \n\tANDORNTEAR", max_size=200),
    st.lists(
        st.sampled_from(
            [
                "<script>",
                "</p>",
                "&amp;",
                "NEAR(",
                '"',
                "'",
                "OR",
                "AND",
                "NOT",
                "话费",
                "副卡",
                "*",
                "^",
                ":",
                "\\",
                "5G",
                "😀",
            ]
        ),
        max_size=60,
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(_nasty)
def test_fts5_query_never_raises_a_syntax_error(text: str) -> None:
    db = _fts5()
    expr = segment.fts5_query(text)
    if expr is None:
        assert segment.query_terms(text) == []
        return
    db.execute("SELECT rowid FROM faq WHERE faq MATCH ?", (expr,)).fetchall()


_TSQ_TOKEN = re.compile(r"'(?:[^'\\]|''|\\\\)+'(?::\*)?|\(|\)|<->|\|")


@settings(max_examples=300, deadline=None)
@given(_nasty)
def test_tsquery_is_well_formed(text: str) -> None:
    q = segment.tsquery(text)
    if q is None:
        return
    # every character belongs to a quoted lexeme or an operator, and parentheses balance
    assert _TSQ_TOKEN.sub("", q).replace(" ", "") == ""
    depth = 0
    for ch in _TSQ_TOKEN.sub(lambda m: m.group(0) if m.group(0) in "()" else "", q):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


def test_huge_query_is_capped() -> None:
    text = "副卡流量宽带套餐话费" * 10_000
    assert len(segment.query_terms(text)) <= segment.MAX_QUERY_TERMS
    assert segment.fts5_query(text) is not None
