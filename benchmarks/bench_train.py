"""Benchmark of the headline study's training cell: steps/s and seconds per cell.

Run:  python -m benchmarks.bench_train [--steps 300] [--repeats 3] [--out FILE]
Writes: the printed report to ``--out`` (default benchmarks/results_train.txt).

For each default objective of ``studies.latent_identifiability`` on each kind of setting (sphere,
box, content/style), in this process with one thread: the time of one training step (sampling a
batch of positive pairs, loss forward + backward, Adam step; best of ``repeats`` over ``--steps``
steps), split into its three parts, and the time of one identifiability evaluation (linear and
kernel R^2). The seconds per cell are then compared for two configurations measured here:

* final-only: the cell as it was before budget curves (3000 steps, one final evaluation);
* budget curve: today's default (3000 steps, R^2 at ``log_checkpoints(3000, 4)``, i.e. three
  evaluations along training plus the final one).

A cell's seconds are ``steps * step time + evaluations * evaluation time`` from the measured
parts (a whole 3000-step cell per configuration would take minutes per objective).
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from benchmarks._timing import best_time
from mitheory import generative, train as tr
from mitheory._rng import as_generator
from mitheory.stats import log_checkpoints
from studies.latent_identifiability import Config, _options

OUT = Path(__file__).resolve().parent / "results_train.txt"
SETTINGS = ("sphere_vmf", "box_normal", "cs_p1.0")


def _parts(method, proc, batch_size: int, steps: int, seed: int) -> dict[str, float]:
    """Seconds per step of sampling, loss forward+backward and the Adam update."""
    opt = torch.optim.Adam(method.parameters(), lr=1e-3)
    rng = as_generator(seed)
    t = {"sample": 0.0, "loss": 0.0, "adam": 0.0}
    for _ in range(steps):
        t0 = time.perf_counter()
        b = proc.sample_pairs(batch_size, seed=rng)
        x_neg = proc.sample_negatives(batch_size, seed=rng)[0] if method.needs_negatives else None
        t1 = time.perf_counter()
        loss = method.loss(b.x, b.x_tilde, x_neg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        method.after_step(0, steps)
        t3 = time.perf_counter()
        t["sample"] += t1 - t0
        t["loss"] += t2 - t1
        t["adam"] += t3 - t2
    return {k: v / steps for k, v in t.items()}


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300, help="steps timed per repeat")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many repeats")
    ap.add_argument("--out", type=Path, default=OUT, help="report file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = Config()
    n_evals = {"final-only": 1, "budget curve": len(log_checkpoints(cfg.steps, cfg.n_checkpoints))}
    lines = [f"bench_train: one thread, torch {torch.__version__}, {platform.processor() or ''} "
             f"{platform.machine()}; batch {cfg.batch_size}, hidden {cfg.hidden}, best of "
             f"{args.repeats} x {args.steps} steps; evaluation n_fit={cfg.n_fit}, n_eval="
             f"{cfg.n_eval}, n_kernel_fit={cfg.n_kernel_fit}",
             "", "| setting | objective | steps/s | sample ms | loss fwd+bwd ms | Adam ms | eval s "
             "| cell s final-only | cell s budget curve | ratio |", "|---" * 10 + "|"]
    totals = dict.fromkeys(n_evals, 0.0)
    for setting in SETTINGS:
        proc = generative.make_process(setting, seed=0)
        for name in cfg.objectives:
            if name == "er_gaussian" and setting == "sphere_vmf":
                continue
            opts = _options(cfg, name, proc)
            method = tr.make_method(name, dim_in=proc.dim_x, hidden=cfg.hidden,
                                    dim_out=tr.representation_dim(name, proc, **opts), **opts)
            runs = [_parts(method, proc, cfg.batch_size, args.steps, seed=r)
                    for r in range(args.repeats)]
            part = min(runs, key=lambda p: sum(p.values()))
            step = sum(part.values())
            t_eval, _ = best_time(lambda: tr.evaluate_identifiability(
                method, proc, n_fit=cfg.n_fit, n_eval=cfg.n_eval, n_kernel_fit=cfg.n_kernel_fit,
                seed=0, style_baseline=False), repeats=args.repeats)
            cell = {k: cfg.steps * step + n * t_eval for k, n in n_evals.items()}
            for k in totals:
                totals[k] += cell[k]
            lines.append(f"| {setting} | {name} | {1 / step:.0f} | {part['sample'] * 1e3:.2f} | "
                         f"{part['loss'] * 1e3:.2f} | {part['adam'] * 1e3:.2f} | {t_eval:.2f} | "
                         f"{cell['final-only']:.1f} | {cell['budget curve']:.1f} | "
                         f"{cell['budget curve'] / cell['final-only']:.3f} |")
    a, b = totals["final-only"], totals["budget curve"]
    lines += ["", f"sum over these cells: final-only {a:.1f} s, budget curve {b:.1f} s "
              f"(ratio {b / a:.3f})"]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.write_text(report)
    return report


if __name__ == "__main__":
    main()
