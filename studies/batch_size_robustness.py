"""Is ER more robust to the batch size and the EMA coefficient than SimCLR / BYOL? Claim C4.

Paper: Rodriguez-Galvez et al. 2023 (ER; dossier entrec_identifiability.md Sec. 1.7-1.8: "ER
variants are competitive and stable at smaller batch sizes and smaller EMA coefficients", no
table readable). Each method is trained on a content/style latent process at several batch
sizes with the number of training samples seen held fixed (steps = samples_seen // batch, same
lr), and the distillation pair (BYOL, ER-BYOL) at several EMA base momenta. Reported: content
R^2 (linear, kernel) and a downstream linear-probe accuracy (argmax of a fixed random linear map
of the true content, ``mitheory.stats.downstream_labels``) from the frozen representation.

Run:  python -m studies.batch_size_robustness [--quick] [--seed 0] [--batch-sizes 32 ... 4096]
      [--objectives ...] [--emas ...] [--samples-seen N] [--device auto]
Writes: figures/batch_size_robustness.{png,pdf,json,md,csv}

Protocol: ``reconstructed`` (the paper's tables, architectures and schedules are unavailable).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mitheory import train as tr
from mitheory.study import Threshold, cached_process, group_rows, int_seed, parallel_map
from mitheory.study import run_study, spawn, subplots, threshold_verdict

METRICS = ("content_r2_linear", "content_r2_kernel", "probe_accuracy")
MARGIN = 0.05  # R^2 units: a spread difference smaller than this is not called either way


@dataclass(frozen=True)
class Config:
    setting: str = "cs_p0.75"  # latent process (PROCESS_NAMES)
    objectives: tuple[str, ...] = ("er", "simclr", "byol", "er_byol",
                                   "er_gaussian")  # registered methods (ER in both geometries)
    batch_sizes: tuple[int, ...] = (32, 128, 512, 1024)  # batch-size sweep (no EMA override)
    emas: tuple[float, ...] = (0.9, 0.99, 0.999)  # EMA base momenta swept for the *byol methods
    ema_batch_size: int = 128  # batch size of the EMA sweep
    samples_seen: int = 65_536  # held fixed: steps = samples_seen // batch_size
    seed: int = 0  # root seed of every stream of the study
    lr: float = 1e-3  # Adam learning rate (same at every batch size)
    hidden: tuple[int, ...] = (64, 64)  # encoder hidden widths
    kappa: float = 10.0  # ER/ER-BYOL vMF concentration; SimCLR tau = 1/kappa
    n_classes: int = 4  # classes of the downstream probe task
    n_fit: int = 2000  # samples the R^2 regressions and the probe are fitted on
    n_eval: int = 2000  # held-out samples they are scored on
    n_kernel_fit: int = 500  # fit samples of the kernel ridge (O(n^3))
    device: str = "auto"  # auto, cpu or cuda[:i]
    workers: int = 1  # cells run in parallel processes (results do not change)


QUICK = replace(Config(), objectives=("er", "simclr", "byol", "er_byol"), batch_sizes=(16, 32),
                emas=(0.9, 0.99), ema_batch_size=16, samples_seen=256, n_fit=150, n_eval=150,
                n_kernel_fit=50)
PAPER = replace(Config(), batch_sizes=(32, 128, 512, 2048, 4096), samples_seen=1_048_576,
                hidden=(128, 128, 128))


def _cell(cfg: Config, name: str, batch: int, ema: float | None) -> dict:
    """Train and evaluate one (objective, batch, ema) cell on the study's one process."""
    proc = cached_process(cfg.setting, (cfg.seed, 0))
    kw = ({"kappa": cfg.kappa} if name in ("er", "er_byol") else
          {"tau": 1 / cfg.kappa} if name == "simclr" else {})
    if ema is not None:
        kw["base_momentum"] = ema
    steps = max(1, cfg.samples_seen // batch)
    tcfg = tr.TrainConfig(steps=steps, batch_size=batch, lr=cfg.lr, device=cfg.device,
                          progress=False)
    ss_ev, ss_probe = spawn(int_seed((cfg.seed, 2)), 2)  # same eval samples for every cell
    fit = tr.fit_and_evaluate(
        name, proc, tcfg, seed_train=int_seed((cfg.seed, 1, batch, cfg.objectives.index(name))),
        seed_eval=ss_ev, dim_out=len(proc.content_idx) + 1, hidden=cfg.hidden, n_fit=cfg.n_fit,
        n_eval=cfg.n_eval, n_kernel_fit=cfg.n_kernel_fit, **kw)
    probe = tr.probe_accuracy(fit.method, proc, n_fit=cfg.n_fit, n_eval=cfg.n_eval,
                              n_classes=cfg.n_classes, task_seed=cfg.seed, seed=ss_probe)
    r2 = fit.r2("content")
    print(f"{name:8s} B={batch:5d} ema={ema}: content R2 lin {r2['linear']:.3f} ker "
          f"{r2['kernel']:.3f} probe {probe:.3f} ({fit.train.wall_time_s:.1f} s)", flush=True)
    return {"objective": name, "batch_size": batch, "ema": ema, "steps": steps,
            "content_r2_linear": r2["linear"], "content_r2_kernel": r2["kernel"],
            "probe_accuracy": probe, "wall_time_s": fit.train.wall_time_s}


def run(cfg: Config) -> dict:
    cells = [(n, b, None) for n in cfg.objectives for b in cfg.batch_sizes]
    cells += [(n, cfg.ema_batch_size, e) for n in cfg.objectives if "byol" in n for e in cfg.emas]
    runs = parallel_map(_cell, [(cfg, *c) for c in cells], workers=cfg.workers)
    return {"protocol": "reconstructed", "held_fixed": f"samples seen = {cfg.samples_seen}",
            "runs": runs, "spread": spreads(runs), "claims": verdicts(runs)}


def _sweeps(runs) -> dict[str, dict[tuple, list[dict]]]:
    """Runs of each sweep (batch size: no EMA override; ema) grouped by objective."""
    return {"batch_size": group_rows([r for r in runs if r["ema"] is None], "objective"),
            "ema": group_rows([r for r in runs if r["ema"] is not None], "objective")}


def spreads(runs) -> list[dict]:
    """Per objective and sweep: max - min of each metric across the sweep."""
    return [{"sweep": sweep, "objective": name,
             **{f"{m}_spread": float(np.ptp([r[m] for r in rs])) for m in METRICS},
             **{f"{m}_min": float(min(r[m] for r in rs)) for m in METRICS[::2]}}
            for sweep, groups in _sweeps(runs).items() for (name,), rs in groups.items()
            if len(rs) >= 2]


def verdicts(runs) -> list[dict]:
    sp = {(s["sweep"], s["objective"]): s for s in spreads(runs)}
    out = []
    for sweep, er_name, others in (("batch_size", "er", ("simclr", "byol")),
                                   ("batch_size", "er_gaussian", ("simclr", "byol")),
                                   ("ema", "er_byol", ("byol",))):
        oth = {o: sp[(sweep, o)]["content_r2_linear_spread"] for o in others if (sweep, o) in sp}
        if (sweep, er_name) not in sp or not oth:
            continue
        low = min(oth.values())  # ER must beat every other method, i.e. the most robust one
        rule = Threshold(f"{er_name} spread", ("<", low - MARGIN), (">", low + MARGIN),
                         key=f"{er_name}_spread")
        out.append(threshold_verdict(
            "C4", {rule.name: sp[(sweep, er_name)]["content_r2_linear_spread"]}, [rule],
            subject=f"{sweep} sweep (spread = max - min of linear content R^2; smallest other "
            f"spread {low:.4f}, margin {MARGIN:g})", protocol="reconstructed", n_seeds=1,
            evidence={"sweep": sweep, "other_spreads": oth,
                      "all": [s for s in sp.values() if s["sweep"] == sweep]}))
    return out


def plot(results: dict):
    fig, axes = subplots(2, 3, axsize=(3.4, 2.4))
    for row, (sweep, groups) in enumerate(_sweeps(results["runs"]).items()):
        for ax, m in zip(axes[row], METRICS):
            for (name,), rs in groups.items():
                xs = [r["batch_size"] if sweep == "batch_size" else 1 - r["ema"] for r in rs]
                ax.plot(xs, [r[m] for r in rs], "o-", label=name)
            ax.set(xscale="log", xlabel="batch size" if sweep == "batch_size" else
                   "1 - EMA base momentum", ylabel=m.replace("_", " "))
            ax.legend(fontsize=7)
    fig.suptitle(f"C4: {results['held_fixed']}", fontsize=9)
    return fig


def main(argv: list[str] | None = None) -> dict:
    return run_study("batch_size_robustness", Config, run, plot, argv, quick=QUICK,
                     presets={"paper_scale": PAPER}, description=__doc__,
                     tables=lambda r: {"batch_size_robustness": r["runs"],
                                       "batch_size_robustness_spread": r["spread"]})


if __name__ == "__main__":
    main()
