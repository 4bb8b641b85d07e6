#!/usr/bin/env python3
"""Write the scipy / statsmodels / scikit-learn reference values for test/eval/stats.test.ts.

    /usr/bin/python3 scripts/make_stats_fixture.py

Needs Debian's python3-scipy, python3-statsmodels and python3-sklearn. Writes test/fixtures/stats/:
  special.json          scipy.special.betainc / betaincinv, scipy.stats.t.ppf, scipy.stats.t.interval
  clopper_pearson.json  statsmodels proportion_confint(method='beta') at alpha 0.05 and 0.005
  mcnemar.json          statsmodels mcnemar(exact=True), checked against scipy.stats.binomtest
  holm.json             statsmodels multipletests(method='holm')
  bootstrap.json        0/1 outcomes and scipy.stats.bootstrap(method='percentile') intervals with their
                        standard errors (accuracy, mean per-class recall, a paired difference of accuracies)
  ranking.json          roc_auc_score, and VOC2007 11-point AP by the devkit formula over precision_recall_curve
"""
import json
import os

import numpy as np
import scipy
import sklearn
import statsmodels
from scipy import special, stats
from sklearn.metrics import precision_recall_curve, roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "stats")
VERSIONS = {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__, "sklearn": sklearn.__version__}


def write(name, payload):
    payload = {"generator": "scripts/make_stats_fixture.py", "versions": VERSIONS, **payload}
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(payload, f)
        f.write("\n")


def special_cases():
    ibeta = []
    for x, a, b in [(0.3, 2.0, 5.0), (0.5, 0.5, 0.5), (0.999, 30.0, 2.0), (0.01, 1.0, 50000.0),
                    (0.8175, 8175.0, 1826.0), (0.5, 10001.0, 10000.0), (1e-6, 3.0, 40000.0)]:
        ibeta.append({"x": x, "a": a, "b": b, "value": float(special.betainc(a, b, x))})
    ibeta_inv = []
    for p, a, b in [(0.025, 3.0, 8.0), (0.975, 8176.0, 1825.0), (0.0025, 1.0, 50000.0), (0.5, 0.5, 0.5)]:
        ibeta_inv.append({"p": p, "a": a, "b": b, "value": float(special.betaincinv(a, b, p))})
    t = []
    for p, df in [(0.975, 1), (0.975, 4), (0.975, 9), (0.025, 4), (0.9975, 29), (0.6, 2.5), (0.975, 1000)]:
        t.append({"p": p, "df": df, "value": float(stats.t.ppf(p, df))})
    seeds = []
    for values in [[60.1, 58.3, 61.2, 59.9, 62.0], [79.5, 79.4], [0.7, 0.71, 0.69, 0.74, 0.72, 0.7, 0.73, 0.69]]:
        v = np.array(values)
        lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
        seeds.append({"values": values, "lo": float(lo), "hi": float(hi)})
    write("special.json", {"ibeta": ibeta, "ibeta_inv": ibeta_inv, "t_quantile": t, "seed_mean_interval": seeds})


def clopper_pearson_cases():
    cases = []
    for k, n in [(0, 10), (10, 10), (1, 10), (5, 10), (3, 7), (8175, 10000), (9928, 10000), (0, 50000),
                 (1, 50000), (40000, 50000), (49999, 50000), (38086, 50000), (1, 1), (0, 1)]:
        for alpha in (0.05, 0.005):
            lo, hi = proportion_confint(k, n, alpha=alpha, method="beta")
            cases.append({"k": k, "n": n, "alpha": alpha, "lo": float(lo), "hi": float(hi)})
    write("clopper_pearson.json", {"cases": cases})


def mcnemar_cases():
    cases = []
    for b, c in [(0, 0), (0, 1), (5, 5), (10, 2), (2, 10), (100, 130), (30, 0), (1200, 1000), (2000, 2100),
                 (7, 1), (25, 40)]:
        p = float(mcnemar([[0, b], [c, 0]], exact=True).pvalue)
        if b + c > 0:
            p2 = float(stats.binomtest(b, b + c, 0.5).pvalue)
            assert abs(p - p2) <= 1e-12 * max(1.0, p), (b, c, p, p2)
        cases.append({"b": b, "c": c, "p": p})
    write("mcnemar.json", {"cases": cases})


def holm_cases():
    cases = []
    for p in [[0.01, 0.04, 0.03, 0.005], [0.5, 0.5, 0.01], [0.2], [1e-8, 0.049, 0.02, 0.02, 0.9, 0.3]]:
        reject, adj, _, _ = multipletests(p, alpha=0.05, method="holm")
        cases.append({"p": p, "adjusted": [float(v) for v in adj], "reject": [bool(v) for v in reject]})
    write("holm.json", {"alpha": 0.05, "cases": cases})


def bootstrap_cases():
    rng = np.random.default_rng(15)
    n, k = 400, 8
    labels = np.arange(n) % k
    p_class = np.linspace(0.45, 0.95, k)
    a = (rng.random(n) < p_class[labels]).astype(np.int64)
    # b: a with ~6% of the images flipped, mostly right -> wrong
    b = a.copy()
    flip = rng.random(n) < 0.06
    b[flip & (a == 1)] = 0
    b[flip & (a == 0) & (rng.random(n) < 0.3)] = 1
    R = 20000

    def mean_per_class(c, y):
        present = np.unique(y)
        return float(np.mean([c[y == cl].mean() for cl in present]))

    out = {"n": n, "n_classes": k, "labels": labels.tolist(), "a": a.tolist(), "b": b.tolist(),
           "confidence": 0.95, "scipy_resamples": R, "cases": {}}
    res = stats.bootstrap((a,), np.mean, method="percentile", n_resamples=R, random_state=1)
    out["cases"]["accuracy"] = {"estimate": float(a.mean()), "lo": float(res.confidence_interval.low),
                                "hi": float(res.confidence_interval.high), "se": float(res.standard_error)}
    res = stats.bootstrap((a, labels), mean_per_class, paired=True, vectorized=False, method="percentile",
                          n_resamples=R, random_state=2)
    out["cases"]["mean_per_class"] = {"estimate": mean_per_class(a, labels), "lo": float(res.confidence_interval.low),
                                      "hi": float(res.confidence_interval.high), "se": float(res.standard_error)}
    res = stats.bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis), paired=True,
                          method="percentile", n_resamples=R, random_state=3)
    out["cases"]["paired_diff"] = {"estimate": float(a.mean() - b.mean()), "lo": float(res.confidence_interval.low),
                                   "hi": float(res.confidence_interval.high), "se": float(res.standard_error)}
    write("bootstrap.json", out)


def voc_ap11_devkit(scores, targets):
    """VOC2007 11-point AP (devkit VOCevalcls, use_07_metric) over scikit-learn's precision_recall_curve."""
    if targets.sum() == 0:
        return None
    precision, recall, _ = precision_recall_curve(targets, scores)
    # drop the (recall 0, precision 1) point scikit-learn appends: it is no threshold
    precision, recall = precision[:-1], recall[:-1]
    ap = 0.0
    for t in [i / 10 for i in range(11)]:
        sel = precision[recall >= t]
        ap += (sel.max() if sel.size else 0.0) / 11
    return float(ap)


def voc_ap11_per_detection(scores, targets):
    """The devkit's own loop over single detections (no tie grouping), for cross-checking untied scores."""
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(targets[order])
    fp = np.cumsum(1 - targets[order])
    rec = tp / targets.sum()
    prec = tp / (tp + fp)
    return float(sum((prec[rec >= i / 10].max() if (rec >= i / 10).any() else 0.0) for i in range(11)) / 11)


def ranking_cases():
    rng = np.random.default_rng(11)
    binary = []
    for name, n, pos_rate, shift, decimals in [("untied", 200, 0.3, 1.0, None), ("tied", 300, 0.5, 0.6, 1),
                                               ("heavy-ties", 80, 0.4, 0.5, 0), ("separable", 50, 0.5, 10.0, None),
                                               ("small", 7, 0.45, 0.2, 2)]:
        y = (rng.random(n) < pos_rate).astype(np.int64)
        y[0], y[1] = 1, 0
        s = rng.normal(size=n) + shift * y
        if decimals is not None:
            s = np.round(s, decimals)
        s = s.astype(np.float32).astype(np.float64)
        ap = voc_ap11_devkit(s, y)
        if decimals is None:
            assert abs(ap - voc_ap11_per_detection(s, y)) < 1e-12
        binary.append({"name": name, "scores": s.tolist(), "targets": y.tolist(),
                       "roc_auc": float(roc_auc_score(y, s)), "voc_ap11": ap})
    # a multilabel problem: 60 samples x 5 classes, one class without positives
    n, k = 60, 5
    T = (rng.random((n, k)) < 0.3).astype(np.int64)
    T[:, 4] = 0
    S = (rng.normal(size=(n, k)) + 1.2 * T).astype(np.float32)
    S[:, 2] = np.round(S[:, 2], 1)
    per_class = [voc_ap11_devkit(S[:, c].astype(np.float64), T[:, c]) for c in range(k)]
    valid = [v for v in per_class if v is not None]
    multilabel = {"n": n, "n_classes": k, "scores": S.reshape(-1).tolist(), "targets": T.reshape(-1).tolist(),
                  "per_class": per_class, "mAP": float(np.mean(valid))}
    write("ranking.json", {"binary": binary, "multilabel": multilabel})


def main():
    os.makedirs(OUT, exist_ok=True)
    special_cases()
    clopper_pearson_cases()
    mcnemar_cases()
    holm_cases()
    bootstrap_cases()
    ranking_cases()
    print(f"wrote {OUT} ({VERSIONS})")


if __name__ == "__main__":
    main()
