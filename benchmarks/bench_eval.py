"""Benchmark of the identifiability evaluation: kernel-ridge R^2 against scikit-learn's grid search.

Run:  python -m benchmarks.bench_eval [--n-kernel-fit 800] [--repeats 3] [--out FILE]
Writes: the printed report to ``--out`` (default benchmarks/results_eval.txt).

The baseline is what ``r2_identifiability(method="kernel")`` computed before: one
``GridSearchCV(KernelRidge(kernel="rbf"))`` per target block (4 alphas x 4 gammas x 3 folds,
refit), for the three blocks the headline study scores from one representation (all latents,
content, style). Ours is ``r2_identifiability_blocks``: the same estimator and floating-point
operations, with distances, kernels and Cholesky factors shared across alphas and blocks.
Both run in this process, one BLAS thread, best of ``repeats``; the R^2 values are compared.
"""
from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import sklearn
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from benchmarks._timing import best_time
from mitheory.stats import r2_identifiability_blocks
from mitheory.stats._identifiability import DEFAULT_ALPHAS, DEFAULT_GAMMAS
from mitheory.study import int_seed

OUT = Path(__file__).resolve().parent / "results_eval.txt"


def _sklearn_blocks(hf, he, blocks, folds):
    hs = StandardScaler().fit(hf)
    out = {}
    for name, (zf, ze) in blocks.items():
        zs = StandardScaler().fit(zf)
        grid = {"alpha": list(DEFAULT_ALPHAS), "gamma": list(DEFAULT_GAMMAS)}
        m = GridSearchCV(KernelRidge(kernel="rbf"), grid, cv=folds, n_jobs=1)
        m.fit(hs.transform(hf), zs.transform(zf))
        out[name] = float(r2_score(zs.transform(ze), m.predict(hs.transform(he))))
    return out


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-kernel-fit", type=int, default=800, help="kernel fit samples")
    p.add_argument("--n-eval", type=int, default=4096, help="eval samples")
    p.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    p.add_argument("--out", type=Path, default=OUT, help="report file")
    a = p.parse_args(argv)
    rng = np.random.default_rng(0)
    n, d = a.n_kernel_fit, 10
    z_fit, z_ev = rng.standard_normal((n, d)), rng.standard_normal((a.n_eval, d))
    w = rng.standard_normal((d, 6))
    h_fit, h_ev = np.tanh(z_fit[:, :6] @ w[:6]), np.tanh(z_ev[:, :6] @ w[:6])  # 6-dim codes
    blocks = {"all": (z_fit, z_ev), "content": (z_fit[:, :5], z_ev[:, :5]),
              "style": (z_fit[:, 5:], z_ev[:, 5:])}
    seed = 3
    folds = KFold(3, shuffle=True, random_state=int_seed(seed) % 2**32)
    with threadpool_limits(1):
        t_ref, ref = best_time(lambda: _sklearn_blocks(h_fit, h_ev, blocks, folds), a.repeats)
        t_new, new = best_time(lambda: r2_identifiability_blocks(h_fit, h_ev, blocks,
                                                             method="kernel", seed=seed),
                           a.repeats)
    diff = max(abs(ref[k] - new[k]["r2"]) for k in blocks)
    lines = [
        f"# bench_eval  sklearn {sklearn.__version__}  numpy {np.__version__}  "
        f"{platform.machine()}  BLAS threads=1",
        f"kernel R^2 of 3 target blocks from one 6-dim representation, n_kernel_fit={n}, "
        f"n_eval={a.n_eval}, grid 4 alphas x 4 gammas x 3 folds",
        f"GridSearchCV(KernelRidge) per block: {t_ref:.3f} s",
        f"r2_identifiability_blocks:           {t_new:.3f} s",
        f"speed-up {t_ref / t_new:.2f}x; max |R^2 difference| = {diff:.2e}",
    ]
    report = "\n".join(lines) + "\n"
    print(report, end="")
    a.out.write_text(report)
    return report


if __name__ == "__main__":
    main()
