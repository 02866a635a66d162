"""Benchmark of mitheory.info: KSG vs scikit-learn, KL entropy at 10^6, GMM bounds at N = 20,000.

Run:  python -m benchmarks.bench_info [--quick] [--max-n 1000000] [--out FILE]
Writes: the printed report to ``--out`` (default benchmarks/results_info.txt).

How KSG is made comparable with ``sklearn.feature_selection.mutual_info_regression``: sklearn
rescales each variable by its standard deviation (no centring), adds 1e-10 x max(1, mean|v|)
Gaussian noise from ``RandomState(random_state)`` (x's noise drawn first) and runs KSG estimator
1 with the Chebyshev metric and strict counts. We build exactly those arrays with
``sklearn.preprocessing.scale`` and the same RandomState calls, and pass them to
``mi_ksg(..., method="ksg1", metric="chebyshev", standardize=False)``; the data have MI ~0.35,
so sklearn's clipping at 0 never acts. Times are wall clock, best of ``repeats`` runs, measured
in this one process; sklearn's time includes its (O(n)) preprocessing, ours does not.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.feature_selection import mutual_info_regression
from sklearn.preprocessing import scale

from benchmarks._timing import best_time
from mitheory.info import entropy_gaussian, entropy_knn, entropy_mixture_bounds, mi_ksg

OUT = Path(__file__).resolve().parent / "results_info.txt"


def _sklearn_inputs(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Exactly what ``mutual_info_regression`` feeds its KSG (sklearn 1.9 ``_estimate_mi``):
    ``scale`` without centring, then 1e-10 x max(1, mean|v|) noise from ``RandomState(seed)``,
    x's noise drawn first."""
    rs = np.random.RandomState(seed)
    xs = scale(x.reshape(-1, 1), with_mean=False)
    xs += 1e-10 * np.maximum(1, np.mean(np.abs(xs), axis=0)) * rs.standard_normal(xs.shape)
    ys = scale(y, with_mean=False)
    ys += 1e-10 * max(1.0, float(np.mean(np.abs(ys)))) * rs.standard_normal(ys.shape[0])
    return xs[:, 0], ys


def bench_ksg(ns: list[int], say) -> None:
    say("## KSG (estimator 1, k=3, Chebyshev) vs sklearn mutual_info_regression, 1-D x and y")
    say(f"{'n':>9} {'ours (nats)':>20} {'sklearn (nats)':>20} {'|diff|':>9} "
        f"{'ours s':>8} {'sklearn s':>9} {'ours/sk':>8} {'ours s/(n log n) x1e6':>22}")
    rng = np.random.default_rng(0)
    for n in ns:
        x = rng.standard_normal(n)
        y = x + rng.standard_normal(n)  # I = 0.5 log 2 = 0.3466 nats
        reps = 3 if n <= 10**5 else 1
        t_sk, sk = best_time(
            lambda: mutual_info_regression(x[:, None], y, n_neighbors=3, random_state=0)[0], reps)
        xs, ys = _sklearn_inputs(x, y, 0)
        t_us, us = best_time(
            lambda: mi_ksg(xs, ys, k=3, method="ksg1", metric="chebyshev",
                           standardize=False).value, reps)
        say(f"{n:>9} {us:>20.15f} {sk:>20.15f} {abs(us - sk):>9.1e} {t_us:>8.3f} {t_sk:>9.3f} "
            f"{t_us / t_sk:>8.3f} {1e6 * t_us / (n * math.log(n)):>22.4f}")


def bench_entropy(n: int, d: int, say) -> None:
    say(f"## Kozachenko-Leonenko entropy, n={n}, d={d}, k=3, Euclidean, standard normal")
    x = np.random.default_rng(1).standard_normal((n, d))
    t, h = best_time(lambda: entropy_knn(x).value, 1)
    truth = entropy_gaussian(np.eye(d)).value
    say(f"estimate {h:.6f} nats, truth {truth:.6f}, error {h - truth:+.2e}, time {t:.3f} s")


def bench_gmm(n: int, d: int, say) -> None:
    say(f"## GMM pairwise bounds, isotropic sample-centred N(x_i, 0.5 I): N={n}, d={d}")
    x = np.random.default_rng(2).standard_normal((n, d))
    t, b = best_time(lambda: entropy_mixture_bounds(x, 0.5), 1)
    tracemalloc.start()
    entropy_mixture_bounds(x, 0.5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    say(f"time {t:.2f} s (all 5 default methods), peak traced memory {peak / 2**20:.1f} MiB "
        f"(a dense N x N float64 matrix would be {n * n * 8 / 2**20:.0f} MiB; the input "
        f"{x.nbytes / 2**20:.1f} MiB)")
    for m, v in b.items():
        say(f"  {m:<22} {v.value:12.6f} nats ({v.kind})")
    nf, df = max(50, n // 40), 8
    rng = np.random.default_rng(3)
    a = rng.standard_normal((nf, df, df)) * 0.5
    covs = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(df)
    t_full, _ = best_time(
        lambda: entropy_mixture_bounds(rng.standard_normal((nf, df)), covs), 1)
    say(f"full covariances, N={nf}, d={df}: {t_full:.2f} s (O(N^2 d^3) Chernoff/ELK terms)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    ap.add_argument("--max-n", type=int, default=10**6, help="largest KSG n (10^6 ~ a minute)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    lines: list[str] = []

    def say(s: str) -> None:
        print(s, flush=True)
        lines.append(s)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("n/a",)
    say(f"# bench_info  {time.strftime('%Y-%m-%d %H:%M:%S')}  {platform.platform()}")
    say(f"cpus={os.cpu_count()} loadavg={tuple(round(v, 2) for v in load)} numpy={np.__version__}"
        f" scipy={scipy.__version__} sklearn={sklearn.__version__}")
    ns = [10**3, 10**4] if args.quick else [n for n in (10**4, 10**5, 10**6) if n <= args.max_n]
    skipped = [] if args.quick else [n for n in (10**4, 10**5, 10**6) if n > args.max_n]
    bench_ksg(ns, say)
    if skipped:
        say(f"skipped KSG sizes (over --max-n): {skipped}")
    bench_entropy(10**4 if args.quick else 10**6, 3, say)
    bench_gmm(2000 if args.quick else 20_000, 16 if args.quick else 64, say)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
