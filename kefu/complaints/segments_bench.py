"""`kefu bench segments`: segments of the 3,150 subscribers of telecom-churn-iran, their churn rates, and how
well they separate churn, against random segments of the same sizes drawn in the same run."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kefu.complaints.segments import Variable, segment

Echo = Callable[[str], None]
FILE = "telecom-churn-iran/Customer_Churn.csv"
# Priority order for the variable selection (value first: it decides compensation authority).
VARIABLES = (
    Variable("Customer Value", "客户价值", "value"), Variable("Charge  Amount", "消费档位", "value"),
    Variable("Subscription  Length", "在网时长", "tenure"), Variable("Complains", "投诉", "complaints"),
    Variable("Call  Failure", "通话失败", "complaints"), Variable("Seconds of Use", "通话时长", "voice"),
    Variable("Frequency of use", "通话次数", "voice"), Variable("Frequency of SMS", "短信量", "sms"),
    Variable("Distinct Called Numbers", "联系人数", "voice"), Variable("Tariff Plan", "合约套餐", "other"),
    Variable("Status", "不活跃", "other"), Variable("Age", "年龄", "other"),
    Variable("Age Group", "年龄段", "other"),
)
OFFERS = {"bill_credit": "话费减免", "refund": "退费", "data_pack": "流量包", "minutes": "通话分钟",
          "free_trial": "业务体验", "gift_points": "积分"}
PRIORITIES = {"low": "低", "normal": "普通", "high": "高", "urgent": "紧急"}


def separation(labels: np.ndarray, churn: np.ndarray) -> tuple[float, float]:
    """Cramér's V of segment × churn and the chi-square p-value."""
    from scipy.stats import chi2_contingency

    table = np.array([[int(((labels == s) & (churn == c)).sum()) for c in (0, 1)] for s in np.unique(labels)])
    chi2, p, _, _ = chi2_contingency(table)
    v = float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))
    return v, float(p)


def run(data_dir: Path | None, echo: Echo) -> bool:
    from kefu.complaints.training import default_data_dir

    data_dir = data_dir or default_data_dir()
    if data_dir is None or not (data_dir / FILE).is_file():
        echo(f"skipped: no {FILE} under ../shared/data (pass --data)")
        return False
    with (data_dir / FILE).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r[v.key]) for v in VARIABLES] for r in rows])
    churn = np.array([int(r["Churn"]) for r in rows])
    t0 = time.perf_counter()
    seg = segment(x, VARIABLES)
    took = time.perf_counter() - t0
    echo(f"{len(rows)} subscribers, churn {churn.mean():.1%}; segmented in {took:.1f} s")
    echo("kept: " + ", ".join(seg.kept))
    for key, (twin, r) in seg.dropped.items():
        echo(f"dropped {key} (r = {r} with {twin})")
    echo("k   silhouette  stability (ARI of 80% resamples)")
    for k, sil, stab in seg.choice:
        echo(f"{k:<3} {sil:>10.3f}  {stab:>9.3f}{'   <- chosen' if k == seg.k else ''}")
    labels = seg.assign(x)
    for s in seg.segments:
        members = labels == s.index
        st = s.strategy
        echo(f"segment {s.index}: {members.sum():>5} customers, churn {churn[members].mean():6.1%} | {s.profile} | "
             f"priority {PRIORITIES[st.priority]}, authority x{st.authority_multiplier}, offer {OFFERS[st.offer]}")
    v, p = separation(labels, churn)
    rng = np.random.default_rng(0)
    rand = [separation(rng.permutation(labels), churn)[0] for _ in range(20)]
    echo(f"churn separation: Cramér's V {v:.3f} (chi-square p = {p:.1e}); random segments of the same sizes: "
         f"V {np.mean(rand):.3f} ± {np.std(rand):.3f}; ratio {v / max(float(np.mean(rand)), 1e-9):.1f}x")
    return True
