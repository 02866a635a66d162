"""MINC ablations: collapse without GHA, best alpha = 2, best auxiliary EMA ~0.8, better than the
spectral contrastive loss. Claim C14 (its gradient part: studies.minc_gradient_variance).
Paper: Guo et al. 2025 (MINC).

Run:  python -m studies.minc_ablations [--quick] [--seed 0] [--steps N] [--n-seeds K]
Writes: figures/minc_ablations.{png,pdf,json,md,csv}

Protocol ``reconstructed`` (MINC's equations, alpha family and ImageNet protocol were not
readable; dossier mmi_minc.md 2.4): MLP encoders on the latent processes, Adam, fixed steps.
The alpha sweep uses the contrastive f-MI bound ``fmi_alpha`` with an exponential density-ratio
model (defined for every alpha); MINC's non-contrastive form exists only at alpha = 2 here.
Collapse = effective rank of the representation covariance <= ``collapse_erank``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from mitheory import train as tr
from mitheory.plotting import barh_rows, errorbar_rows
from mitheory.study import agreement, cached_process, claim_verdict, decide, parallel_map
from mitheory.study import named_seed, run_study, subplots, summarise_groups, sweep_verdict

MINC = {"decorrelation": "gha", "moment_decay": 0.8}
MIN_TOL = 0.02  # R^2: the smallest margin called a difference, whatever the seed sd


@dataclass(frozen=True)
class Config:
    processes: tuple[str, ...] = ("cs_p1.0", "box_normal")  # the first carries every ablation
    alphas: tuple[float, ...] = (1.5, 2.0, 3.0)  # alpha sweep of the contrastive f-MI bound
    ema_decays: tuple[float, ...] = (0.0, 0.5, 0.8, 0.95)  # MINC second-moment EMA sweep
    n_seeds: int = 2  # replicates: one process and one training each
    seed: int = 0  # root seed of every stream of the study
    steps: int = 500  # training steps per cell
    batch_size: int = 256  # positive pairs per step
    lr: float = 1e-3  # Adam learning rate
    hidden: tuple[int, ...] = (64, 64)  # encoder hidden widths
    n_eval: int = 1500  # fit = eval samples of the R^2 regressions and the effective rank
    collapse_erank: float = 1.5  # effective rank at or below which a representation collapsed
    workers: int = 2  # cells run in parallel processes (results do not change)


QUICK = replace(Config(), processes=("cs_p1.0",), alphas=(2.0, 3.0), ema_decays=(0.0, 0.8),
                n_seeds=1, steps=20, batch_size=64, n_eval=250, workers=1)


def _cells(cfg: Config) -> list[tuple[str, str, str, dict]]:
    """(process, label, method, options); the first process carries every ablation."""
    p0 = cfg.processes[0]
    return ([(p0, f"fmi alpha={a:g}", "fmi_alpha", {"alpha": a, "ratio": "exp"})
             for a in cfg.alphas]
            + [(p0, f"minc gha ema={d:g}", "minc", {**MINC, "moment_decay": d})
               for d in cfg.ema_decays if d != 0.8]
            + [(p0, "minc full ema=0.8", "minc", {**MINC, "decorrelation": "full"})]
            + [(p, lab, n, kw) for p in cfg.processes for lab, n, kw in
               (("minc gha ema=0.8", "minc", MINC), ("spectral", "spectral", {}))])


def _train_cell(cfg: Config, ci: int, rep: int) -> dict:
    pname, label, name, kw = _cells(cfg)[ci]
    # seeded by names, so a subset of the grid (--processes, --alphas ...) trains its cells
    proc = cached_process(pname, named_seed(cfg.seed, pname, rep))
    tcfg = tr.TrainConfig(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, device="cpu",
                          progress=False)
    row = {"process": pname, "label": label, "replicate": rep, **tr.fit_row(
        name, proc, tcfg, seed=named_seed(cfg.seed, pname, label, rep), n_eval=cfg.n_eval,
        hidden=cfg.hidden,
        dim_out=len(proc.content_idx), **kw)}
    print(f"{pname:10s} {label:20s} rep {rep}: R2 lin {row['content_r2_linear']:.3f} "
          f"ker {row['content_r2_kernel']:.3f} erank {row['effective_rank']:.2f}", flush=True)
    return row


def run(cfg: Config) -> dict:
    cells = [(ci, rep) for ci in range(len(_cells(cfg))) for rep in range(cfg.n_seeds)]
    runs = parallel_map(_train_cell, [(cfg, *c) for c in cells], workers=cfg.workers)
    summ = summarise_groups(runs, ("process", "label"), ("content_r2_linear", "content_r2_kernel",
                                                         "effective_rank"), count="n_seeds")
    return {"protocol": "reconstructed", "runs": runs, "summary": summ,
            "claims": verdicts(summ, cfg)}


def verdicts(s: list[dict], cfg: Config) -> list[dict]:
    p0, get = cfg.processes[0], {(r["process"], r["label"]): r for r in s}
    c14 = partial(claim_verdict, "C14", protocol="reconstructed", n_seeds=cfg.n_seeds)
    gha, full = get[(p0, "minc gha ema=0.8")], get[(p0, "minc full ema=0.8")]
    c_full, c_gha = (r["effective_rank"] <= cfg.collapse_erank for r in (full, gha))
    out = [c14(decide(c_full and not c_gha, not c_full), notes="part: collapse without GHA",
               evidence={"erank_full": full["effective_rank"], "erank_gha": gha["effective_rank"],
                         "erank_spectral": get[(p0, "spectral")]["effective_rank"]},
               criterion=f"collapse = effective rank <= {cfg.collapse_erank}; supported if MINC "
               "without GHA collapses and with GHA does not; not supported if without GHA it "
               "does not; else inconclusive")]
    for prefix, target, what in (("fmi alpha=", 2.0, "alpha"),
                                 ("minc gha ema=", 0.8, "auxiliary EMA")):
        rows = [r for r in s if r["process"] == p0 and r["label"].startswith(prefix)]  # grid order
        out.append(sweep_verdict(
            "C14", rows, "content_r2_kernel", f"{prefix}{target:g}", sd_key="content_r2_kernel_sd",
            min_margin=MIN_TOL, subject=f"best {what} by mean content kernel R^2 on {p0}",
            notes=f"part: best {what} = {target:g}", protocol="reconstructed", n_seeds=cfg.n_seeds))
    diffs = {p: get[(p, "minc gha ema=0.8")]["content_r2_kernel"]
             - get[(p, "spectral")]["content_r2_kernel"] for p in cfg.processes}
    tol = {p: max(get[(p, "spectral")]["content_r2_kernel_sd"], MIN_TOL) for p in cfg.processes}
    out.append(c14(
        agreement(diffs.values(), tol.values()),
        evidence={"minc_minus_spectral_r2_kernel": diffs, "tolerance": tol},
        notes="part: MINC improves on spectral contrastive",
        criterion=f"MINC (GHA, EMA 0.8) minus spectral content kernel R^2 > max(sd, {MIN_TOL:g}) "
        "on every process: supported; < -that on every process: not supported; else inconclusive"))
    return out


def plot(results: dict):
    s = results["summary"]
    fig, axes = subplots(1, 3, axsize=(3.4, 2.6))
    axes, p0 = np.ravel(axes), s[0]["process"]
    for ax, prefix, title in ((axes[0], "fmi alpha=", "alpha sweep (f-MI, exp ratio)"),
                              (axes[1], "minc gha ema=", "auxiliary EMA sweep (MINC, GHA)")):
        rows = sorted((r for r in s if r["process"] == p0 and r["label"].startswith(prefix)),
                      key=lambda r: float(r["label"].split("=")[1]))
        errorbar_rows(ax, [float(r["label"].split("=")[1]) for r in rows], rows,
                      {"linear": "content_r2_linear", "kernel": "content_r2_kernel"})
        ax.set(title=title, xlabel=prefix.split()[-1].rstrip("="), ylabel=f"content R$^2$ ({p0})")
    rows = [r for r in s if r["label"] in ("spectral", "minc gha ema=0.8", "minc full ema=0.8")]
    barh_rows(axes[2], [f"{r['label']}\n{r['process']}" for r in rows], rows, "content_r2_linear",
              notes=[f"erank {r['effective_rank']:.2f}" for r in rows], color="C0", alpha=0.7)
    axes[2].set(title="MINC vs spectral (linear R$^2$)", xlim=(0, 1))
    return fig


def main(argv: list[str] | None = None) -> dict:
    return run_study("minc_ablations", Config, run, plot, argv, quick=QUICK, description=__doc__,
                     tables=lambda r: {"minc_ablations": r["summary"]})


if __name__ == "__main__":
    main()
