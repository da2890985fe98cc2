"""`kefu bench classify`: the shipped classifier on labelled dialogues it was not trained on, against the
previous recipe (training.BASELINE) trained in the same run on the same dialogues, a keyword baseline and, when
the embedder is installed, a zero-shot embedding baseline. With `cv`, both recipes are also measured by grouped
cross-validation over every labelled dialogue (each fold trained and tuned on the others only)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kefu.complaints import classifier, training
from kefu.complaints.labels import CATEGORIES, CATEGORY_TERMS, TYPES, category_terms, escalation_terms

Echo = Callable[[str], None]
CV_FOLDS = 5
ORIGINAL_POOLS = ("sequential", "targeted")  # the labelled dialogues before December 2026 (sequential2)
LATE_POOLS = ("sequential5",)  # held-out dialogues labelled in the seventh round (docs/labelling.md)

# The keyword baseline: the words the labelling guide itself gives for each category (labels.CATEGORY_TERMS), first
# match in that order wins (specific before general); no keyword, "other". Written from the guide, never tuned.
KEYWORDS = CATEGORY_TERMS
TYPE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("praise", ("谢谢", "感谢", "赞", "点赞", "满意")),
    ("suggestion", ("建议", "希望增加", "能不能增加")),
    ("request", ("帮我办", "我要办", "申请", "取消", "开通")),
    ("inquiry", ("请问", "咨询", "怎么办", "如何", "是否", "能否")),
)
DESCRIPTIONS: dict[str, str] = {  # the guide's definitions, for the zero-shot baseline
    "billing": "话费 扣费 账单 退费 余额 缴费 不明收费", "data": "手机流量 流量包 流量超额 限速",
    "network": "手机信号 覆盖 掉线 网络差 上网慢", "broadband": "宽带 光纤 装机 报修 家庭网络 IPTV",
    "plan": "套餐 资费 变更套餐 合约 优惠活动 会员权益", "vas": "增值业务 订阅 SP业务 彩铃 运营商应用",
    "roaming": "漫游 国际漫游 出国使用", "terminal": "手机 终端设备 SIM卡故障 手机故障",
    "number": "实名制 号码 补卡 销户 携号转网 过户", "service": "服务态度 营业厅 热线打不通 客服处理慢",
    "spam": "垃圾短信 骚扰电话 诈骗电话 营销短信", "other": "与运营商无关的其他问题",
}


def keyword_category(text: str) -> str:
    found = category_terms(text)
    return found[0] if found else "other"


def keyword_type(text: str) -> str:
    for typ, words in TYPE_KEYWORDS:
        if any(w in text for w in words):
            return typ
    return "complaint"


@dataclass(frozen=True)
class Scores:
    macro_f1: float
    accuracy: float
    per_class: dict[str, tuple[float, int]]  # F1, support


def score(truth: Sequence[str], pred: Sequence[str], classes: Sequence[str]) -> Scores:
    from sklearn.metrics import accuracy_score, f1_score

    present = [c for c in classes if c in set(truth)]
    f1 = f1_score(truth, pred, labels=present, average=None, zero_division=0)
    return Scores(float(np.mean(f1)) if len(present) else 0.0, float(accuracy_score(truth, pred)),
                  {c: (float(f), list(truth).count(c)) for c, f in zip(present, f1, strict=True)})


@dataclass(frozen=True)
class Measured:
    category: Scores
    type: Scores
    category_pred: list[str]
    type_pred: list[str]


def measure(model: classifier.Model, test: Sequence[training.Example]) -> Measured:
    preds = [model.classify(e.text) for e in test]
    cats, types = [p.category for p in preds], [p.type for p in preds]
    return Measured(score([e.category for e in test], cats, CATEGORIES), score([e.type for e in test], types, TYPES),
                    cats, types)


def cross_validate(examples: Sequence[training.Example], recipe: training.Recipe, folds: int = 5,
                   log: Echo = lambda _: None) -> Measured:
    """Grouped, stratified k-fold over `examples`: each fold classified by a model `training.fit` trained (and
    tuned, by its own inner cross-validation) on the other folds only; near-duplicates stay on one side."""
    from sklearn.model_selection import StratifiedGroupKFold

    groups = training.near_duplicate_groups([e.text for e in examples])
    cats: list[str] = [""] * len(examples)
    types: list[str] = [""] * len(examples)
    split = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=training.SEED)
    for k, (tr, te) in enumerate(split.split(examples, [e.category for e in examples], groups), 1):
        model = classifier.Model(training.fit([examples[i] for i in tr], recipe=recipe))
        m = measure(model, [examples[i] for i in te])
        for j, i in enumerate(te):
            cats[i], types[i] = m.category_pred[j], m.type_pred[j]
        log(f"  fold {k}/{folds}: {len(tr)} trained, {len(te)} classified")
    return Measured(score([e.category for e in examples], cats, CATEGORIES),
                    score([e.type for e in examples], types, TYPES), cats, types)


def confusion(truth: Sequence[str], pred: Sequence[str], classes: Sequence[str], echo: Echo) -> None:
    from sklearn.metrics import confusion_matrix

    short = [c[:5] for c in classes]
    m = confusion_matrix(truth, pred, labels=list(classes))
    echo("  truth \\ predicted " + " ".join(f"{s:>5}" for s in short))
    for c, row in zip(classes, m, strict=True):
        echo(f"  {c:<18}" + " ".join(f"{v:>5}" for v in row))


def zero_shot(texts: Sequence[str]) -> list[str] | None:
    try:
        from kefu.knowledge.text.embed import get_embedder

        emb = get_embedder()
    except Exception:
        return None
    if "hash" in emb.name:
        return None
    cats = list(DESCRIPTIONS)
    a = np.asarray(emb.encode([DESCRIPTIONS[c] for c in cats]))
    b = np.asarray(emb.encode(list(texts)))
    return [cats[i] for i in (b @ a.T).argmax(axis=1)]


def _timed(model: classifier.Model, text: str) -> float:
    t0 = time.perf_counter()
    model.classify(text)
    return time.perf_counter() - t0


def _recipe(r: training.Recipe) -> str:
    return (f"grievance marker {'on' if r.grievance_feature else 'off'}, question and request markers "
            f"{'on' if r.asking_feature else 'off'}, category keyword markers {'on' if r.keyword_feature else 'off'}, "
            f"first-line markers {'on' if r.first_line_feature else 'off'}, "
            f"telecom words {'on' if r.word_feature else 'off'}, "
            f"type other by category "
            f"{'on' if r.type_other_by_category else 'off'}, "
            f"type C by {'accuracy' if r.type_c_by_accuracy else 'macro-F1'}")


def run(data_dir: Path | None, model_path: Path | None, echo: Echo, *, cv: bool = False) -> bool:
    """Print the figures; False (and a clear message) when the labelled data is not there."""
    data_dir = data_dir or training.default_data_dir()
    if data_dir is None or not (data_dir / training.DATASET).is_dir():
        echo(f"skipped: no {training.DATASET} under ../shared/data (pass --data)")
        return False
    t0 = time.perf_counter()
    model = classifier.load(model_path)
    load_s = time.perf_counter() - t0
    examples = training.labelled(data_dir)
    test = [e for e in examples if training.held_out(e.key)]
    train = [e for e in examples if not training.held_out(e.key)]
    echo(f"held-out dialogues: {len(test)} of {len(examples)} labelled (never trained or tuned on); "
         f"model trained {model.info.get('trained_at')} on {model.info.get('trained_on')}")
    texts = [e.text for e in test]
    model.classify(texts[0])  # the first call warms numpy up
    t0 = time.perf_counter()
    preds = [model.classify(t) for t in texts]
    per_ms = (time.perf_counter() - t0) / len(texts) * 1000
    # per text the best of three runs: on a shared machine one run also times whoever else is on the CPU
    times = sorted(min(_timed(model, t) for _ in range(3)) * 1000 for t in texts)
    p99_ms, worst_ms = times[min(len(times) - 1, int(0.99 * len(times)))], times[-1]
    t0 = time.perf_counter()
    kw_cat = [keyword_category(t) for t in texts]
    kw_type = [keyword_type(t) for t in texts]
    kw_ms = (time.perf_counter() - t0) / len(texts) * 1000
    cats = [e.category for e in test]
    types = [e.type for e in test]
    m_cat = score(cats, [p.category for p in preds], CATEGORIES)
    m_type = score(types, [p.type for p in preds], TYPES)
    b_cat = score(cats, kw_cat, CATEGORIES)
    b_type = score(types, kw_type, TYPES)
    echo(f"trained in this run: the previous recipe ({_recipe(training.BASELINE)}) on the same {len(train)} "
         f"training dialogues ...")
    base = measure(classifier.Model(training.fit(train, recipe=training.BASELINE)), test)
    echo(f"load {load_s:.3f} s; classify {per_ms:.2f} ms a text on average, 99th percentile {p99_ms:.2f} ms, "
         f"slowest {worst_ms:.2f} ms (keyword baseline {kw_ms:.3f} ms)")
    echo("held-out                         model   previous recipe   keyword")
    echo(f"category macro-F1 ({len(m_cat.per_class)} classes)    {m_cat.macro_f1:.3f}   {base.category.macro_f1:.3f}"
         f"             {b_cat.macro_f1:.3f}")
    echo(f"category accuracy                {m_cat.accuracy:.3f}   {base.category.accuracy:.3f}             "
         f"{b_cat.accuracy:.3f}")
    echo(f"type accuracy                    {m_type.accuracy:.3f}   {base.type.accuracy:.3f}             "
         f"{b_type.accuracy:.3f}")
    echo(f"type macro-F1                    {m_type.macro_f1:.3f}   {base.type.macro_f1:.3f}             "
         f"{b_type.macro_f1:.3f}")
    zs = zero_shot(texts)
    if zs is not None:
        z = score(cats, zs, CATEGORIES)
        echo(f"  zero-shot embedding baseline: category macro-F1 {z.macro_f1:.3f}, accuracy {z.accuracy:.3f}")

    def subset(label: str, rows: list[int], *, per_class: bool = False) -> None:
        s = score([cats[i] for i in rows], [preds[i].category for i in rows], CATEGORIES)
        st = score([types[i] for i in rows], [preds[i].type for i in rows], TYPES)
        sb = score([cats[i] for i in rows], [base.category_pred[i] for i in rows], CATEGORIES)
        stb = score([types[i] for i in rows], [base.type_pred[i] for i in rows], TYPES)
        echo(f"  the {len(rows)} held out {label}: category macro-F1 {s.macro_f1:.3f} (previous recipe "
             f"{sb.macro_f1:.3f}), accuracy {s.accuracy:.3f}; type accuracy {st.accuracy:.3f} "
             f"(previous {stb.accuracy:.3f})")
        if per_class:
            echo("    per-class F1 (model / previous recipe) " + ", ".join(
                f"{c} {f:.2f} / {sb.per_class[c][0]:.2f}" for c, (f, _) in s.per_class.items()))

    before = [i for i, e in enumerate(test) if e.pool in ORIGINAL_POOLS]
    if len(before) < len(test):
        subset("before the December labels", before)
    earlier = [i for i, e in enumerate(test) if e.pool not in LATE_POOLS]
    if len(earlier) < len(test):  # the held-out set the rounds before the seventh measured on, to compare with them
        subset("before the seventh round (the set earlier rounds measured on)", earlier, per_class=True)
    for pool in sorted({e.pool for e in test}):
        rows = [i for i, e in enumerate(test) if e.pool == pool]
        if len(rows) == len(test):
            continue
        s = score([cats[i] for i in rows], [preds[i].category for i in rows], CATEGORIES)
        st = score([types[i] for i in rows], [preds[i].type for i in rows], TYPES)
        echo(f"  {pool} dialogues only ({len(rows)}): category macro-F1 {s.macro_f1:.3f}, accuracy "
             f"{s.accuracy:.3f}; type accuracy {st.accuracy:.3f}")
    echo("per-class F1 (support): category        model   previous   keyword")
    for c, (f, n) in m_cat.per_class.items():
        echo(f"  {c:<10} ({n:>3})                     {f:.3f}   {base.category.per_class[c][0]:.3f}      "
             f"{b_cat.per_class.get(c, (0.0, 0))[0]:.3f}")
    echo("per-class F1 (support): type            model   previous   keyword")
    for c, (f, n) in m_type.per_class.items():
        echo(f"  {c:<10} ({n:>3})                     {f:.3f}   {base.type.per_class[c][0]:.3f}      "
             f"{b_type.per_class.get(c, (0.0, 0))[0]:.3f}")
    echo("confusion matrix, category (model):")
    confusion(cats, [p.category for p in preds], CATEGORIES, echo)
    echo("confusion matrix, type (model):")
    confusion(types, [p.type for p in preds], TYPES, echo)
    for head in ("type", "category"):
        applied = [i for i, p in enumerate(preds) if (p.type_applies if head == "type" else
                                                       p.category_confidence >= p.category_threshold)]
        truth = types if head == "type" else cats
        right = sum(getattr(preds[i], head) == truth[i] for i in applied)
        echo(f"applied {head} (confidence >= {model.heads[head].threshold:.2f}): {len(applied)} of {len(test)} "
             f"({len(applied) / len(test):.0%}), right {right / max(len(applied), 1):.3f} "
             f"(target {model.info.get('target_precision')}); the rest is left to the agent")
    plain = model.heads["type"].threshold_without_grievance
    # what the head's threshold alone would apply (no grievance rule), against what is applied
    said = [i for i, p in enumerate(preds) if p.type == "complaint" and p.type_confidence >= p.type_threshold]
    kept = [i for i in said if preds[i].type_applies]
    if plain is not None:
        def right_of(rows: list[int]) -> float:
            return sum(types[i] == "complaint" for i in rows) / max(len(rows), 1)

        echo(f"complaints applied: {len(kept)} (right {right_of(kept):.3f}), without the grievance threshold "
             f"({plain:.2f}) {len(said)} (right {right_of(said):.3f})")
    esc_truth = [bool(e.escalation) for e in test]
    esc_pred = [p.escalation for p in preds]
    tp = sum(a and b for a, b in zip(esc_truth, esc_pred, strict=True))
    prec, rec = tp / max(sum(esc_pred), 1), tp / max(sum(esc_truth), 1)
    echo(f"escalation: {sum(esc_truth)} escalated, precision {prec:.3f}, recall {rec:.3f}")
    agreement(examples, echo)
    if cv:
        gs = training.near_duplicate_groups([e.text for e in examples])
        echo(f"grouped {CV_FOLDS}-fold cross-validation over all {len(examples)} labelled dialogues "
             f"({sum(1 for g in gs if gs.count(g) > 1)} in near-duplicate groups):")
        for name, recipe in (("model", training.SHIPPED), ("previous recipe", training.BASELINE)):
            m = cross_validate(examples, recipe, CV_FOLDS, echo)
            echo(f"  {name}: category macro-F1 {m.category.macro_f1:.3f}, accuracy {m.category.accuracy:.3f}; "
                 f"type accuracy {m.type.accuracy:.3f}, macro-F1 {m.type.macro_f1:.3f}")
            echo("    per-class F1 " + ", ".join(f"{c} {f:.2f}" for c, (f, _) in m.category.per_class.items()))
    return True


def agreement(examples: Sequence[training.Example], echo: Echo) -> None:
    again = training.relabelled()
    first = {e.key: e for e in examples}
    both = [(first[k], v) for k, v in again.items() if k in first]
    if not both:
        return
    n = len(both)
    echo(f"labelling agreement, blind re-label of {n}: type {sum(a.type == b[0] for a, b in both) / n:.2f}, "
         f"category {sum(a.category == b[1] for a, b in both) / n:.2f}, "
         f"escalation {sum(bool(a.escalation) == b[2] for a, b in both) / n:.2f} (one labeller: an upper bound)")


__all__ = ["escalation_terms", "keyword_category", "keyword_type", "run"]
