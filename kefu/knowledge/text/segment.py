"""Chinese/English segmentation, normalisation and full-text query building.

Pure functions over strings; no database. The same functions serve the index side
(:func:`fts_pieces` for a stored FTS5 / ``tsvector('simple')`` column) and the query side
(:func:`fts5_query`, :func:`tsquery`), so a query always matches how a document was stored.

Pieces. A Chinese run ``c1 c2 ... cn`` is stored as its overlapping two-character pieces
``c1c2 c2c3 ...`` (a one-character run as itself); Latin letters and digits are stored as
lower-cased words. A query term becomes a *phrase* of its pieces, so a two-character word
(话费) matches one piece and a longer one (流量包) matches consecutive pieces (流量 量包).
SQLite's ``unicode61`` tokenizer and PostgreSQL's ``simple`` configuration both split the
stored string on spaces only, because pieces contain nothing but letters and digits.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "STOPWORDS",
    "char_bigrams",
    "cut",
    "domain_terms",
    "domain_vocab",
    "fts5_query",
    "fts_pieces",
    "index_tokens",
    "normalize",
    "pieces",
    "query_terms",
    "tokenizer",
    "tsquery",
]

#: Queries are cut to this many characters before analysis (a pasted e-mail is not a query).
MAX_QUERY_CHARS = 256
#: At most this many terms go into one FTS expression.
MAX_QUERY_TERMS = 24

_DICT_RESOURCE = "telecom_dict.txt"
#: Floor frequency for user-dictionary words: jieba's suggested frequency is too low to beat
#: rare dictionary words (副卡扣费 would stay 副/卡扣/费), so domain terms get a common word's weight.
_USER_WORD_FREQ = 3000

# Common traditional characters seen in customer messages (HK/TW/overseas users) -> simplified.
_TRAD_PAIRS = """
話话 費费 寬宽 帶带 網网 絡络 號号 碼码 電电 訊讯 資资 帳账 賬账 單单 開开 關关
換换 補补 無无 線线 機机 語语 聲声 實实 認认 證证 辦办 務务 業业 訂订 購购 餘余
額额 儲储 動动 聯联 國国 際际 遊游 場场 頭头 問问 題题 麼么 為为 這这 個个 們们
來来 時时 間间 長长 東东 車车 對对 錯错 還还 進进 過过 遠远 運运 達达 違违 約约
紅红 燈灯 閃闪 經经 輸输 錢钱 銀银 鐘钟 門门 閉闭 應应 當当 後后 發发 現现 說说
請请 讓让 謝谢 較较 幫帮 買买 賣卖 貴贵 贈赠 優优 權权 會会 員员 級级 紀纪 錄录
記记 盤盘 雲云 視视 頻频 樂乐 戶户 廳厅 營营 據据 數数 絕绝 斷断 續续 隨随 險险
體体 態态 區区 廣广 報报 統统 係系 標标 準准 傳传 條条 簡简 樣样 沒没 嗎吗 啟启
設设 複复 復复 計计 劃划 掛挂 鐵铁 協协 議议 轉转 攜携 擾扰 騙骗 詐诈 攔拦 檢检
測测 試试 與与 於于 專专 屬属 戲戏 書书 寫写 讀读 識识 別别 總总 處处 塊块 錶表
貼贴 驗验 團团 齊齐 閱阅 廠厂 產产 壞坏 邊边 鬧闹 慮虑 縮缩 撥拨 鎖锁 聽听 響响
歲岁 滿满 惡恶 罰罚 壓压 擴扩 鄉乡 蘭兰 灣湾 遞递 郵邮 學学 點点 騰腾 寶宝 圖图
顯显 極极 導导 彈弹 卻却 纔才 裡里 裏里
"""
_TRAD_TABLE = {ord(pair[0]): pair[1] for pair in _TRAD_PAIRS.split()}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN_RE = re.compile(f"[{_CJK}]+|[a-z0-9]+")
_CJK_RE = re.compile(f"^[{_CJK}]+$")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_TAG_RE = re.compile(r"<[^<>]{0,200}>")

#: Function words and question particles dropped from query terms (kept in stored pieces).
_STOPWORDS_TEXT = """
    的 了 吗 呢 吧 啊 呀 哦 嘛 么 哈 啦 喔 噢 诶 哎 嗯 呗 是 在 有 和 与 及 或 就 都 也 还 又 很 太 挺 更
    我 你 您 他 她 它 我们 你们 他们 咱 咱们 自己 这 那 这个 那个 这么 那么 这样 那样 这些 那些 之 其
    怎么 怎么样 怎样 咋 咋办 咋回事 如何 什么 啥 为什么 为啥 干嘛 哪 哪里 哪儿 哪个 多少 几 是否 能否 可否
    请问 请 麻烦 帮 帮忙 一下 下 一个 个 些 能 能不能 可以 可不可以 可能 要 想 会 需要 应该 得 地 着 过
    把 被 给 让 对 向 从 到 于 为 因为 所以 但是 但 而 如果 还是 然后 就是 不是 没有 已经 现在 今天
    怎么办 怎么回事 是不是 有没有 一直 总是 老是 刚才 刚刚 到底 究竟 呃 嗨 你好 您好 谢谢 客服
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORDS_TEXT.split())

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def normalize(text: str, *, keep_punct: bool = False) -> str:
    """Return ``text`` in the canonical form every other function works on.

    Full-width forms become half-width (NFKC), letters are lower-cased, common traditional
    characters become simplified, and whitespace collapses to single spaces. Unless
    ``keep_punct`` is set, every character that is not a CJK ideograph, a Latin letter or a
    digit (punctuation, symbols, emoji) becomes a space. HTML tags and entities are removed first.
    """
    if "<" in text or "&" in text:
        text = _TAG_RE.sub(" ", html.unescape(text))
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRAD_TABLE)
    if not keep_punct:
        text = " ".join(_RUN_RE.findall(text))
    return " ".join(text.split())


def tokenizer() -> jieba.Tokenizer:
    """Return kefu's own jieba tokenizer with the telecom dictionary (loaded once, thread-safe).

    It is a private :class:`jieba.Tokenizer`, so other code using the global ``jieba`` is
    unaffected.
    """
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                for word in _user_words():
                    tok.add_word(word, freq=max(_USER_WORD_FREQ, tok.FREQ.get(word) or 0))
                _tokenizer = tok
    return _tokenizer


@lru_cache(maxsize=1)
def _user_words() -> tuple[str, ...]:
    raw = resources.files(__package__).joinpath(_DICT_RESOURCE).read_text(encoding="utf-8")
    words: dict[str, None] = {}
    for line in raw.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word = normalize(line.split()[0]).replace(" ", "")
        if word:
            words[word] = None
    return tuple(words)


@lru_cache(maxsize=1)
def domain_vocab() -> frozenset[str]:
    """The telecom dictionary's words, normalised."""
    return frozenset(_user_words())


def cut(text: str) -> list[str]:
    """Segment ``text`` into words with jieba (telecom dictionary, no HMM guessing).

    The text is normalised first; punctuation and whitespace never appear in the result.
    """
    tok = tokenizer()
    words: list[str] = []
    for run in normalize(text).split(" "):
        if run:
            words.extend(w for w in tok.lcut(run, HMM=False) if w.strip())
    return words


def char_bigrams(text: str) -> list[str]:
    """Overlapping two-character pieces of each Chinese run of ``text`` (normalised first)."""
    out: list[str] = []
    for run in _RUN_RE.findall(normalize(text)):
        if _CJK_RE.match(run):
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def pieces(text: str) -> list[str]:
    """Index pieces of ``text``: Chinese two-character pieces (a lone character as itself),
    Latin/digit words as they are. Order follows the text, so phrases of pieces match."""
    out: list[str] = []
    for run in _RUN_RE.findall(normalize(text)):
        if _CJK_RE.match(run) and len(run) > 1:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.append(run)
    return out


def fts_pieces(text: str) -> str:
    """The space-joined pieces to store in an FTS5 (``unicode61``) or ``tsvector('simple')`` column."""
    return " ".join(pieces(text))


def index_tokens(text: str) -> list[str]:
    """Tokens for an in-memory inverted index / BM25: jieba words plus Chinese bigram pieces.

    Two-character words also appear as a piece; the double count is deliberate (a word that
    jieba recognises is worth more than an accidental bigram).
    """
    return cut(text) + char_bigrams(text)


def domain_terms(text: str) -> set[str]:
    """Telecom dictionary terms (and numbers) found among the words of ``text``."""
    vocab = domain_vocab()
    found = {w for w in cut(text) if w in vocab}
    found.update(_NUMBER_RE.findall(normalize(text, keep_punct=True)))
    return found


def query_terms(text: str, *, max_terms: int = MAX_QUERY_TERMS) -> list[str]:
    """Distinct search terms of a query, in order: jieba words without stopwords.

    Single Chinese characters are dropped when longer terms exist (they cannot match two-character
    pieces and mostly are particles); if every word is a stopword, the words are kept as they are so
    that "怎么办" still searches for something. Empty for punctuation-only input.
    """
    words = cut(text[:MAX_QUERY_CHARS])
    seen: dict[str, None] = {}
    for w in words:
        if w not in STOPWORDS:
            seen.setdefault(w, None)
    terms = list(seen) or list(dict.fromkeys(words))
    longer = [t for t in terms if not (_CJK_RE.match(t) and len(t) == 1)]
    return (longer or terms)[:max_terms]


def _term_phrases(text: str, max_terms: int) -> list[list[str]]:
    phrases: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for term in query_terms(text, max_terms=max_terms):
        ps = pieces(term)
        key = tuple(ps)
        if ps and key not in seen:
            seen.add(key)
            phrases.append(ps)
    return phrases


def _is_cjk_char(piece: str) -> bool:
    return len(piece) == 1 and bool(_CJK_RE.match(piece))


def fts5_query(text: str, *, max_terms: int = MAX_QUERY_TERMS) -> str | None:
    """An FTS5 ``MATCH`` expression for ``text`` over a column filled by :func:`fts_pieces`.

    An OR of quoted phrases, e.g. ``"副卡" OR "流量 量包"``; a one-character term becomes a prefix
    query (``"卡"*``). Every piece is quoted (double quotes doubled), so no input can produce an
    FTS5 syntax error. Returns ``None`` when nothing searchable is left: the caller answers
    "empty query" instead of running a search.
    """
    parts = []
    for ps in _term_phrases(text, max_terms):
        phrase = '"' + " ".join(p.replace('"', '""') for p in ps) + '"'
        if len(ps) == 1 and _is_cjk_char(ps[0]):
            phrase += "*"
        parts.append(phrase)
    return " OR ".join(parts) if parts else None


def tsquery(text: str, *, max_terms: int = MAX_QUERY_TERMS) -> str | None:
    """A PostgreSQL ``to_tsquery('simple', ...)`` string for ``text`` over ``to_tsvector('simple',
    fts_pieces(doc))``.

    An OR (``|``) of phrases joined with ``<->``, each piece single-quoted with quotes doubled and
    backslashes escaped, e.g. ``'副卡' | ('流量' <-> '量包')``; a one-character term becomes a prefix
    match (``'卡':*``). Returns ``None`` when nothing searchable is left.
    """
    parts = []
    for ps in _term_phrases(text, max_terms):
        quoted = ["'" + p.replace("\\", "\\\\").replace("'", "''") + "'" for p in ps]
        if len(ps) == 1:
            parts.append(quoted[0] + (":*" if _is_cjk_char(ps[0]) else ""))
        else:
            parts.append("(" + " <-> ".join(quoted) + ")")
    return " | ".join(parts) if parts else None
