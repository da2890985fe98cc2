"""The classifier's features: overlapping character 1- to 3-grams of the normalised text, plus a marker of
whether the text voices a grievance (labels.grievance_terms: `<g>` once per grievance word, at most three, or
`<nog>`), which tells a complaint from a question better than the characters alone, and markers of how the
customer asks (labels.question_terms: `<q>` per question form, at most three, or `<noq>`; labels.request_terms:
`<r>` per request verb, at most three) and markers of the categories whose guide words occur (labels.category_terms:
`<k:billing>` ..., each counted as KEYWORD_REPEAT terms) and markers of how the customer's first line opens
(`<q1nog1>`: a question with no grievance; `<p1>`, `<p1nog1>`: thanks or praise, and with no grievance; `<s1>`,
`<s1nog1>`: a proposal, and with no grievance; labels.praise_terms / suggestion_terms) and whole telecom words
(`<w:携号转网>`, the telecom dictionary's words found in the text) (docs/complaints.md).

Pure and shared by training and classification, so both see exactly the same terms. Character n-grams
need no segmenter (jieba with the telecom dictionary took 2.2 s to load on the shared machine) and did better than
jieba words on held-out dialogues; the dictionary's words found by plain substring search give the category what
jieba's words gave in cross-validation without loading jieba (docs/complaints.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection
from functools import lru_cache

from kefu.complaints.labels import (
    category_terms,
    grievance_terms,
    praise_terms,
    question_terms,
    request_terms,
    suggestion_terms,
)
from kefu.knowledge.text.segment import domain_vocab, normalize

NGRAMS = (1, 2, 3)
MAX_CHARS = 4_000  # longer texts are cut: the customer's issue comes first
# Weibo @mentions of an operator's accounts: a text on the operator's own channels (SMS, web chat, the
# hotline) never carries them, so they are left out; a classifier leaning on them would call every such
# text "not about the operator". Mentions of other companies stay: they do tell what the text is about.
_NAME = r"[^\s@:：,，.。!！?？/、]{0,20}"
_MENTION = re.compile(rf"@{_NAME}(?:联通|电信|移动|10010|10000|10086|天翼|沃){_NAME}")
# Punctuation that normalising removes but that tells a question from a grievance: one term each.
_MARKS = (("<?>", "?？"), ("<!>", "!！"), ("<...>", "…"))


GRIEVANCE = "<g>"
NO_GRIEVANCE = "<nog>"
QUESTION = "<q>"
NO_QUESTION = "<noq>"
REQUEST = "<r>"
MAX_GRIEVANCE_MARKS = 3  # also the most question or request marks
# A category marker counts as this many terms (under sublinear TF, 1 + ln 3 = 2.1 times one): chosen by grouped
# cross-validation on the training part between 1 and 3 (docs/complaints.md).
KEYWORD_REPEAT = 3
# A first-line marker of a form with no grievance counts as this many terms, like a category marker (not tuned).
FIRST_LINE_REPEAT = 3
WORD = "<w:"  # a telecom dictionary word's term: <w:携号转网>


def _first_line(text: str) -> list[str]:
    """How the customer's first line opens: a conjunction the linear heads cannot form from the whole-text markers
    (a question, thanks or a proposal with no grievance in the same line; grievances said later in the dialogue
    do not undo how it opened)."""
    first = text.split("\n", 1)[0]
    calm = not grievance_terms(first)
    out: list[str] = []
    if calm and question_terms(first):
        out.extend(["<q1nog1>"] * FIRST_LINE_REPEAT)
    for found, mark in ((praise_terms(first), "<p1"), (suggestion_terms(first), "<s1")):
        if found:
            out.append(f"{mark}>")
            if calm:
                out.extend([f"{mark}nog1>"] * FIRST_LINE_REPEAT)
    return out


def _marks(found: int, mark: str, none: str | None) -> list[str]:
    if found:
        return [mark] * min(found, MAX_GRIEVANCE_MARKS)
    return [none] if none else []


@lru_cache(maxsize=1)
def telecom_words() -> tuple[str, ...]:
    """The telecom dictionary's words of two or more characters (kefu/knowledge/text/telecom_dict.txt,
    normalised): the words `terms(words=...)` looks for when a model is trained. A trained model keeps the ones it
    uses in its vocabulary (`<w:携号转网>`) and classifies with those, so a later edit of the dictionary changes no
    shipped model."""
    return tuple(sorted(w for w in domain_vocab() if len(w) >= 2))


def word_terms(vocabulary: Collection[str]) -> list[str]:
    """The words of a model's `<w:...>` terms (what `terms(words=...)` looks for when classifying with it)."""
    return [t[3:-1] for t in vocabulary if t.startswith(WORD) and t.endswith(">")]


def terms(text: str, ngrams: tuple[int, ...] = NGRAMS, *, grievance: bool = False, asking: bool = False,
          keywords: bool = False, first_line: bool = False, words: Collection[str] = ()) -> list[str]:
    """Character n-grams within each run of letters, digits and Chinese characters (and, with `grievance`,
    the grievance marker; with `asking`, the question and request markers: `<q>` per question form, at most
    three, or `<noq>`, and `<r>` per request verb, labels.question_terms / request_terms; with `keywords`, a
    `<k:category>` marker, KEYWORD_REPEAT times, per category whose guide words occur once the operator's own
    @mentions are removed, labels.category_terms; with `first_line`, the markers of how the first line opens,
    `_first_line`; with `words`, a `<w:word>` term once for each of those words found whole in a run of the
    normalised text once the operator's own @mentions are removed: whole telecom words such as 携号转网 or 国际漫游,
    which character 3-grams only see in pieces)."""
    text = text[:MAX_CHARS]
    out: list[str] = []
    if first_line:
        out.extend(_first_line(text))
    if grievance:
        out.extend(_marks(len(grievance_terms(text)), GRIEVANCE, NO_GRIEVANCE))
    if asking:
        out.extend(_marks(len(question_terms(text)), QUESTION, NO_QUESTION))
        out.extend(_marks(len(request_terms(text)), REQUEST, None))
    text = _MENTION.sub(" ", text)
    if keywords:
        out.extend(f"<k:{cat}>" for cat in category_terms(text) for _ in range(KEYWORD_REPEAT))
    out.extend(mark for mark, chars in _MARKS if any(c in text for c in chars))
    plain = normalize(text)
    out.extend(f"{WORD}{w}>" for w in words if w in plain)
    for run in plain.split(" "):
        for n in ngrams:
            out.extend(run[i:i + n] for i in range(len(run) - n + 1))
    return out


def grievance_terms_of(text: str) -> list[str]:
    """`terms` with the grievance marker (the analyser of models trained with it)."""
    return terms(text, grievance=True)


def asking_terms_of(text: str) -> list[str]:
    """`terms` with the grievance, question and request markers (the analyser of models trained with them)."""
    return terms(text, grievance=True, asking=True)


def keyword_terms_of(text: str) -> list[str]:
    """`terms` with the grievance, question, request and category markers (the analyser of models trained with
    them)."""
    return terms(text, grievance=True, asking=True, keywords=True)


def first_line_terms_of(text: str) -> list[str]:
    """`keyword_terms_of` with the first-line markers and the telecom dictionary's words (the analyser of models
    trained with them)."""
    return terms(text, grievance=True, asking=True, keywords=True, first_line=True, words=telecom_words())


def weighted(text: str, vocabulary: dict[str, int], idf: list[float], *, grievance: bool = False,
             asking: bool = False, keywords: bool = False, first_line: bool = False,
             words: Collection[str] = ()) -> dict[int, float]:
    """Sublinear TF-IDF of `text` over `vocabulary`, L2-normalised: {column: weight}."""
    counts = Counter(t for t in terms(text, grievance=grievance, asking=asking, keywords=keywords,
                                      first_line=first_line, words=words)
                     if t in vocabulary)
    vec = {vocabulary[t]: (1.0 + math.log(c)) * idf[vocabulary[t]] for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / norm for k, v in vec.items()} if norm > 0 else {}
