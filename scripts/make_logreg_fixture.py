#!/usr/bin/env python3
"""Write the scikit-learn reference fixtures for test/eval/logreg.test.ts.

    /usr/bin/python3 scripts/make_logreg_fixture.py

For each case (small separable / non-separable Gaussian-cluster data, 300x20x4)
writes test/fixtures/logreg/<name>.json with the data (float32 values), C, and
sklearn LogisticRegression(solver='lbfgs', C, max_iter=1000, tol=1e-4)
multinomial coef_ [k, dim], intercept_ [k], n_iter_, train predictions, the
objective sum(logloss) + 0.5/C ||coef||^2, plus a tightly converged reference
(tol=1e-10) of the same problem.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "logreg")


def make(n, d, k, sep, seed):
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, sep, size=(k, d))
    y = np.arange(n) % k
    X = (mu[y] + rng.normal(size=(n, d))).astype(np.float32)
    return X, y.astype(np.int64)


def objective(X, y, coef, icpt, C):
    Z = X.astype(np.float64) @ coef.T + icpt
    m = Z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z - m).sum(axis=1)) + m[:, 0]
    return float((lse - Z[np.arange(len(y)), y]).sum() + 0.5 / C * (coef ** 2).sum())


def fit(X, y, C, tol, max_iter):
    kw = dict(solver="lbfgs", C=C, tol=tol, max_iter=max_iter)
    if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 5):
        kw["multi_class"] = "multinomial"
    return LogisticRegression(**kw).fit(X.astype(np.float64), y)


CASES = [
    # name, n, d, k, sep, seed, C
    ("separable", 300, 20, 4, 3.0, 1, 1.0),
    ("nonseparable", 300, 20, 4, 0.4, 2, 1.0),
    ("nonseparable-smallC", 300, 20, 4, 0.4, 3, 0.01),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, n, d, k, sep, seed, C in CASES:
        X, y = make(n, d, k, sep, seed)
        m = fit(X, y, C, 1e-4, 1000)
        ref = fit(X, y, C, 1e-10, 10000)
        train_acc = float((m.predict(X) == y).mean())
        doc = {
            "sklearn": sklearn.__version__,
            "n": n, "dim": d, "nClasses": k, "C": C,
            "X": [float(v) for v in X.ravel()],
            "y": [int(v) for v in y],
            "coef": m.coef_.ravel().tolist(),           # [k, dim] row-major
            "intercept": m.intercept_.tolist(),
            "n_iter": int(np.max(m.n_iter_)),
            "pred": [int(v) for v in m.predict(X)],
            "objective": objective(X, y, m.coef_, m.intercept_, C),
            "train_acc": train_acc,
            "ref_coef": ref.coef_.ravel().tolist(),     # tol=1e-10
            "ref_intercept": ref.intercept_.tolist(),
            "ref_objective": objective(X, y, ref.coef_, ref.intercept_, C),
        }
        path = os.path.join(OUT, name + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
        print(f"{path}: n_iter={doc['n_iter']} train_acc={train_acc:.3f} obj={doc['objective']:.6f}")


if __name__ == "__main__":
    main()
