"""Article diff on the worst bodies: kefu's bounded diff at the article size limit against difflib with
autojunk off (what kefu used before) on the same kind of body, 50 times smaller, measured in the same run.

    python benchmarks/knowledge_diff.py [--chars 100000] [--reference-chars 2000]

Prints milliseconds per diff for each body pair and the ratio to the reference.
"""

from __future__ import annotations

import argparse
import difflib
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kefu.knowledge import diff
from kefu.knowledge.service import MAX_BODY_CHARS


def bodies(n: int, seed: int = 7) -> dict[str, tuple[str, str]]:
    rng = random.Random(seed)
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    sentences = ["".join(rng.choice(han) for _ in range(rng.randint(5, 30))) + "。" for _ in range(n // 15 + 1)]
    text = "".join(sentences)[:n]
    return {
        "ab vs ba": (("ab" * n)[:n], ("ba" * n)[:n]),
        "random a/b": ("".join(rng.choice("ab") for _ in range(n)), "".join(rng.choice("ab") for _ in range(n))),
        "repeated sentence, shifted": (("话费。" * n)[:n], ("费话。" + "话费。" * n)[:n]),
        "two edits far apart": (("话费" * n)[:n], "X" + ("话费" * n)[: n - 2] + "Y"),
        "sentences shuffled": (text, "".join(rng.sample(sentences, len(sentences)))[:n]),
        "random han": ("".join(rng.choice(han) for _ in range(n)), "".join(rng.choice(han) for _ in range(n))),
        "one edit in a real-looking body": (text, text[: n // 2] + "改动" + text[n // 2 + 3:]),
        "lines a/b": ("\n".join(rng.choice("ab") for _ in range(n // 2)),
                      "\n".join(rng.choice("ab") for _ in range(n // 2))),
    }


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chars", type=int, default=MAX_BODY_CHARS)
    parser.add_argument("--reference-chars", type=int, default=2_000)
    args = parser.parse_args()
    big, small = bodies(args.chars), bodies(args.reference_chars)
    print(f"{'bodies':34s} {'kefu @' + str(args.chars):>14s} {'difflib @' + str(args.reference_chars):>16s} ratio")
    for name, (old, new) in big.items():
        ours = timed(lambda o=old, n=new: (diff.body_changes(o, n), diff.unified(o, n, "a", "b")))
        a, b = small[name]
        ref = timed(lambda a=a, b=b: difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
        print(f"{name:34s} {ours:11.1f} ms {ref:13.1f} ms {ours / ref:6.2f}")


if __name__ == "__main__":
    main()
