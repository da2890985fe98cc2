"""The classifier's features: overlapping character 1- to 3-grams of the normalised text.

Pure and shared by training and classification, so both see exactly the same terms. Character n-grams
need no segmenter (jieba takes about a second to load) and did better than jieba words on held-out
dialogues (docs/complaints.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter

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


def terms(text: str, ngrams: tuple[int, ...] = NGRAMS) -> list[str]:
    """Character n-grams within each run of letters, digits and Chinese characters."""
    text = _MENTION.sub(" ", text[:MAX_CHARS])
    out: list[str] = [mark for mark, chars in _MARKS if any(c in text for c in chars)]
    for run in normalize(text).split(" "):
        for n in ngrams:
            out.extend(run[i:i + n] for i in range(len(run) - n + 1))
    return out


def weighted(text: str, vocabulary: dict[str, int], idf: list[float]) -> dict[int, float]:
    """Sublinear TF-IDF of `text` over `vocabulary`, L2-normalised: {column: weight}."""
    counts = Counter(t for t in terms(text) if t in vocabulary)
    vec = {vocabulary[t]: (1.0 + math.log(c)) * idf[vocabulary[t]] for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / norm for k, v in vec.items()} if norm > 0 else {}
