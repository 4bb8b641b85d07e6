#!/usr/bin/env python3
"""scikit-learn side of scripts/bench_logreg.mjs (run with /usr/bin/python3).

Reads Xtr.npy ytr.npy Xte.npy yte.npy from a directory, fits
LogisticRegression(solver='lbfgs', C=C, max_iter, tol) (multinomial) at the
default thread settings (or limited with --threads via threadpoolctl when
available), writes coef.npy / intercept.npy there, and prints one JSON line.
"""
import argparse
import json
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--C", type=float, required=True)
    ap.add_argument("--max-iter", type=int, default=1000)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=0, help="0 = library default")
    a = ap.parse_args()

    import sklearn
    from sklearn.linear_model import LogisticRegression

    d = a.dir
    Xtr = np.load(os.path.join(d, "Xtr.npy"))
    ytr = np.load(os.path.join(d, "ytr.npy"))
    Xte = np.load(os.path.join(d, "Xte.npy"))
    yte = np.load(os.path.join(d, "yte.npy"))

    limiter = None
    blas_threads = None
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        if a.threads > 0:
            limiter = threadpool_limits(limits=a.threads)
        blas_threads = [
            {"api": i.get("internal_api"), "threads": i.get("num_threads")}
            for i in threadpool_info()
        ]
    except Exception:  # threadpoolctl missing: report the environment instead
        blas_threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")

    kw = dict(solver="lbfgs", C=a.C, max_iter=a.max_iter, tol=a.tol)
    if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 5):
        kw["multi_class"] = "multinomial"
    clf = LogisticRegression(**kw)
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t0
    if limiter is not None:
        limiter.unregister() if hasattr(limiter, "unregister") else None

    acc = float((clf.predict(Xte) == yte).mean())
    train_acc = float((clf.predict(Xtr) == ytr).mean())
    # objective in sklearn's lbfgs scaling: sum logloss + 0.5/C ||coef||^2 (float64)
    Z = Xtr.astype(np.float64) @ clf.coef_.T + clf.intercept_
    Z -= Z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z).sum(axis=1))
    nll = float((lse - Z[np.arange(len(ytr)), ytr]).sum())
    obj = nll + 0.5 / a.C * float((clf.coef_ ** 2).sum())

    np.save(os.path.join(d, "coef.npy"), clf.coef_.astype(np.float64))
    np.save(os.path.join(d, "intercept.npy"), clf.intercept_.astype(np.float64))
    print(json.dumps({
        "fit_s": fit_s,
        "n_iter": int(np.max(clf.n_iter_)),
        "test_acc": acc,
        "train_acc": train_acc,
        "objective": obj,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "blas_threads": blas_threads,
    }))


if __name__ == "__main__":
    main()
