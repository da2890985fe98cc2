"""The classifier's features: overlapping character 1- to 3-grams of the normalised text, plus a marker of
whether the text voices a grievance (labels.grievance_terms: `<g>` once per grievance word, at most three, or
`<nog>`), which tells a complaint from a question better than the characters alone, and markers of how the
customer asks (labels.question_terms: `<q>` per question form, at most three, or `<noq>`; labels.request_terms:
`<r>` per request verb, at most three) and markers of the categories whose guide words occur (labels.category_terms:
`<k:billing>` ..., each counted as KEYWORD_REPEAT terms) (docs/complaints.md).

Pure and shared by training and classification, so both see exactly the same terms. Character n-grams
need no segmenter (jieba takes about a second to load) and did better than jieba words on held-out
dialogues (docs/complaints.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from kefu.complaints.labels import category_terms, grievance_terms, question_terms, request_terms
from kefu.knowledge.text.segment import normalize

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


def _marks(found: int, mark: str, none: str | None) -> list[str]:
    if found:
        return [mark] * min(found, MAX_GRIEVANCE_MARKS)
    return [none] if none else []


def terms(text: str, ngrams: tuple[int, ...] = NGRAMS, *, grievance: bool = False, asking: bool = False,
          keywords: bool = False) -> list[str]:
    """Character n-grams within each run of letters, digits and Chinese characters (and, with `grievance`,
    the grievance marker; with `asking`, the question and request markers: `<q>` per question form, at most
    three, or `<noq>`, and `<r>` per request verb, labels.question_terms / request_terms; with `keywords`, a
    `<k:category>` marker, KEYWORD_REPEAT times, per category whose guide words occur once the operator's own
    @mentions are removed, labels.category_terms)."""
    text = text[:MAX_CHARS]
    out: list[str] = []
    if grievance:
        out.extend(_marks(len(grievance_terms(text)), GRIEVANCE, NO_GRIEVANCE))
    if asking:
        out.extend(_marks(len(question_terms(text)), QUESTION, NO_QUESTION))
        out.extend(_marks(len(request_terms(text)), REQUEST, None))
    text = _MENTION.sub(" ", text)
    if keywords:
        out.extend(f"<k:{cat}>" for cat in category_terms(text) for _ in range(KEYWORD_REPEAT))
    out.extend(mark for mark, chars in _MARKS if any(c in text for c in chars))
    for run in normalize(text).split(" "):
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


def weighted(text: str, vocabulary: dict[str, int], idf: list[float], *, grievance: bool = False,
             asking: bool = False, keywords: bool = False) -> dict[int, float]:
    """Sublinear TF-IDF of `text` over `vocabulary`, L2-normalised: {column: weight}."""
    counts = Counter(t for t in terms(text, grievance=grievance, asking=asking, keywords=keywords)
                     if t in vocabulary)
    vec = {vocabulary[t]: (1.0 + math.log(c)) * idf[vocabulary[t]] for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / norm for k, v in vec.items()} if norm > 0 else {}
