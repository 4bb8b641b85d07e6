#!/usr/bin/env python3
"""scikit-learn side of scripts/bench_suite.mjs (run with /usr/bin/python3).

Runs the paper's linear-probe and few-shot protocol, as clip-bench runs it, with scikit-learn's
LogisticRegression(solver='lbfgs', multinomial, max_iter=1000, tol=1e-4), one fit after another, on the
embeddings and the draws that the Node side wrote (manifest.json: per dataset the .npy files of train and test
embeddings and labels, the probe's held-out validation rows, and every few-shot sample's rows in class-major
order). The C search is the paper's parametric one (grid 1e-6..1e6, then halving to 1/8 decade, ties to the
smaller C), scored with the dataset's primary metric; few-shot C by min(k, 4)-fold cross-validation on the
sample (fold = shot position mod folds), C = 1 for one shot. Prints one JSON line: seconds per stage and dataset.
"""
import json
import sys
import time
import warnings

import numpy as np

GRID = [-6, -4, -2, 0, 2, 4, 6]
RESOLUTION = 1 / 8


def main():
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    manifest = json.load(open(sys.argv[1]))
    multinomial = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 5)

    def fit(X, y, C):
        kw = dict(solver="lbfgs", C=C, max_iter=1000, tol=1e-4)
        if multinomial:
            kw["multi_class"] = "multinomial"
        return LogisticRegression(**kw).fit(X, y)

    def score(model, X, y, n_classes, metric):
        ok = model.predict(X) == y
        if metric == "mean_per_class":
            return 100 * float(np.mean([ok[y == c].mean() for c in range(n_classes) if np.any(y == c)]))
        return 100 * float(ok.mean())

    def search(score_of):
        scores = {}

        def tried(l):
            key = round(l * 1e6) / 1e6
            if key not in scores:
                scores[key] = score_of(10 ** key)
            return scores[key]

        best, best_score = GRID[0], -np.inf
        for l in GRID:
            s = tried(l)
            if s > best_score or (s == best_score and l < best):
                best, best_score = l, s
        step = (GRID[1] - GRID[0]) / 2
        while step >= RESOLUTION:
            centre = best
            for l in [centre - step, centre + step]:
                if GRID[0] <= l <= GRID[-1]:
                    s = tried(l)
                    if s > best_score or (s == best_score and l < best):
                        best, best_score = l, s
            step /= 2
        return 10 ** best, len(scores)

    out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "datasets": {}}
    for d in manifest["datasets"]:
        Xtr = np.load(d["Xtr"]).astype(np.float64)
        ytr = np.load(d["ytr"]).astype(np.int64)
        Xte = np.load(d["Xte"]).astype(np.float64)
        yte = np.load(d["yte"]).astype(np.int64)
        k_cls, metric = d["classes"], d["metric"]
        res = {}
        if "probe" in manifest["tasks"]:
            t0, c0 = time.perf_counter(), time.process_time()
            val = np.array(d["val"], dtype=np.int64)
            is_val = np.zeros(len(ytr), bool)
            is_val[val] = True
            tr = np.nonzero(~is_val)[0]
            C, fits = search(lambda C: score(fit(Xtr[tr], ytr[tr], C), Xtr[val], ytr[val], k_cls, metric))
            both = np.concatenate([tr, val])
            top = score(fit(Xtr[both], ytr[both], C), Xte, yte, k_cls, metric)
            res["probe"] = {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "C": C, "fits": fits + 1, "score": top}
        if "fewshot" in manifest["tasks"]:
            t0, c0 = time.perf_counter(), time.process_time()
            fits = 0
            for u in d["samples"]:
                k, rows = u["k"], np.array(u["rows"], dtype=np.int64)
                Xs, ys = Xtr[rows], ytr[rows]
                if k >= 2:
                    folds = min(k, 4)
                    pos = (np.arange(len(rows)) % k) % folds

                    def cv(C):
                        return sum(score(fit(Xs[pos != f], ys[pos != f], C), Xs[pos == f], ys[pos == f], k_cls, metric) for f in range(folds)) / folds

                    C, n = search(cv)
                    fits += n * folds
                else:
                    C = 1.0
                score(fit(Xs, ys, C), Xte, yte, k_cls, metric)
                fits += 1
            res["fewshot"] = {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "fits": fits}
        out["datasets"][d["name"]] = res
        print(f"  sklearn {d['name']}: " + ", ".join(f"{t} {r['seconds']:.1f} s ({r['fits']} fits)" for t, r in res.items()), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
