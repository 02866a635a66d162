"""InfoNCE's content R^2 across fresh draws of the content/style processes, per step budget.

Run:  python -m benchmarks.infonce_draws [--settings cs_stat cs_stat_causal] [--draws 4]
          [--steps 2000 6000] [--first-replicate 1000] [--workers 2]

The headline study (``studies.latent_identifiability``) averages two replicates, each a draw
of the process (mixing g, Wishart covariances) and one training. Whether its InfoNCE number
meets a target then depends on which two draws it got. This benchmark runs the study's own
InfoNCE cell (``_cell``: same encoder, batch, schedule, evaluation) on ``--draws`` further
draws per setting, replicates ``--first-replicate`` onwards (never the study's replicates
0..n_seeds-1), at each budget in ``--steps`` (a full cosine schedule per budget, not a
checkpoint of a longer one), and prints per draw the content kernel / linear R^2 at the end,
whether the budget curve had plateaued (``stats.plateau_status``), the content covariance's
eigenvalue range and the largest style invariance ratio; then per (setting, budget) the mean,
the smallest draw and the share of draws at >= 0.95. The output is committed as
``benchmarks/results_infonce_draws.txt``.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

from mitheory.grid import parallel_map
from mitheory.stats import plateau_status
from studies import latent_identifiability as li


def _one(cfg: li.Config, setting: str, rep: int, steps: int) -> dict:
    """The study's InfoNCE cell of ``setting``'s replicate ``rep`` at ``steps`` steps."""
    c = replace(cfg, steps=steps, settings=(setting,), objectives=("infonce",))
    t0 = time.perf_counter()
    row = li._cell(c, 0, rep, 0, "cpu")
    proc = c.process(setting, rep)
    eig = np.linalg.eigvalsh(proc.sigma_c)
    curve = row["curve"]
    return {"setting": setting, "replicate": rep, "steps": row["train"]["steps"],
            "kernel": row["content"]["kernel"], "linear": row["content"]["linear"],
            "plateau": plateau_status([c["step"] for c in curve],
                                      [c["content"]["kernel"] for c in curve]),
            "eig_min": float(eig[0]), "eig_max": float(eig[-1]),
            "top_ratio": row["style_invariance_ratios"][-1],  # recorded by the cell
            "cell_s": time.perf_counter() - t0}


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=["cs_stat", "cs_stat_causal"])
    ap.add_argument("--draws", type=int, default=4, help="fresh draws per setting")
    ap.add_argument("--steps", type=int, nargs="+", default=[2000, 6000],
                    help="step budgets (each a full schedule)")
    ap.add_argument("--first-replicate", type=int, default=1000,
                    help="replicate index of the first draw (the study uses 0..n_seeds-1)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    cfg = li.Config()
    unknown = [s for s in args.settings if not s.startswith("cs_") or s not in cfg.settings]
    if unknown:
        raise ValueError(f"--settings must be content/style settings of the study "
                         f"{[s for s in cfg.settings if s.startswith('cs_')]}, got {unknown}")
    if args.draws < 1 or min(args.steps) < 8 or args.first_replicate < cfg.n_seeds:
        raise ValueError(f"need --draws >= 1, --steps >= 8 and --first-replicate >= "
                         f"{cfg.n_seeds}, got {args.draws}, {args.steps}, "
                         f"{args.first_replicate}")
    jobs = [(cfg, s, args.first_replicate + k, n) for s in args.settings
            for k in range(args.draws) for n in args.steps]
    t0 = time.perf_counter()
    rows = parallel_map(_one, jobs, workers=args.workers, costs=[j[-1] for j in jobs])
    wall = time.perf_counter() - t0
    lines = [f"InfoNCE content R^2 over fresh draws (study cell, replicates "
             f"{args.first_replicate}..{args.first_replicate + args.draws - 1}); "
             f"wall {wall:.0f} s on {args.workers} workers", "",
             "| setting | replicate | steps | kernel R^2 | linear R^2 | curve | Sigma_c "
             "eigenvalues | largest style ratio | cell s |", "|---" * 9 + "|"]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['replicate']} | {r['steps']} | {r['kernel']:.3f} | "
                     f"{r['linear']:.3f} | {r['plateau']['status']} "
                     f"({r['plateau']['last_change']:+.3f}) | "
                     f"{r['eig_min']:.3g}..{r['eig_max']:.3g} | {r['top_ratio']:.3g} | "
                     f"{r['cell_s']:.0f} |")
    lines += ["", "| setting | steps | mean kernel R^2 | smallest | share >= 0.95 |",
              "|---|---|---|---|---|"]
    for s in args.settings:
        for n in args.steps:
            k = np.array([r["kernel"] for r in rows if r["setting"] == s and r["steps"] == n])
            lines.append(f"| {s} | {n} | {k.mean():.3f} | {k.min():.3f} | "
                         f"{(k >= 0.95).mean():.2f} |")
    report = "\n".join(lines)
    print(report)
    return report


if __name__ == "__main__":
    main()
