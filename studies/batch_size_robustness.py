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
from functools import lru_cache

import numpy as np

from mitheory import generative, stats, train as tr
from mitheory._rng import int_seed, spawn
from mitheory.claims import claim_verdict
from mitheory.cli import parallel_map, run_study
from mitheory.plotting import subplots


@dataclass(frozen=True)
class Config:
    setting: str = "cs_p0.75"
    objectives: tuple[str, ...] = ("er", "simclr", "byol", "er_byol")
    batch_sizes: tuple[int, ...] = (32, 128, 512, 1024)
    emas: tuple[float, ...] = (0.9, 0.99, 0.999)
    ema_batch_size: int = 128
    samples_seen: int = 65_536  # held fixed: steps = samples_seen // batch_size
    seed: int = 0
    lr: float = 1e-3
    hidden: tuple[int, ...] = (64, 64)
    kappa: float = 10.0  # ER/ER-SimCLR vMF concentration; SimCLR tau = 1/kappa
    n_classes: int = 4
    n_fit: int = 2000
    n_eval: int = 2000
    n_kernel_fit: int = 500
    device: str = "auto"
    workers: int = 1


QUICK = replace(Config(), objectives=("er", "simclr", "byol", "er_byol"), batch_sizes=(16, 32),
                emas=(0.9, 0.99), ema_batch_size=16, samples_seen=256, n_fit=150, n_eval=150,
                n_kernel_fit=50)
PAPER = replace(Config(), batch_sizes=(32, 128, 512, 2048, 4096), samples_seen=1_048_576,
                hidden=(128, 128, 128))


@lru_cache(maxsize=4)
def _process(setting: str, seed: int):
    return generative.make_process(setting, seed=int_seed((seed, 0)))


def _cell(cfg: Config, name: str, batch: int, ema: float | None) -> dict:
    """Train and evaluate one (objective, batch, ema) cell on the study's one process."""
    proc = _process(cfg.setting, cfg.seed)
    kw = {"kappa": cfg.kappa} if name in ("er", "er_byol") else {"tau": 1 / cfg.kappa} \
        if name == "simclr" else {}
    if ema is not None:
        kw["base_momentum"] = ema
    method = tr.make_method(name, dim_in=proc.dim_x, dim_out=len(proc.content_idx) + 1,
                            hidden=cfg.hidden, **kw)
    steps = max(1, cfg.samples_seen // batch)
    res = tr.train(method, proc, tr.TrainConfig(steps=steps, batch_size=batch, lr=cfg.lr,
                                                device=cfg.device, progress=False),
                   seed=int_seed((cfg.seed, 1, batch, cfg.objectives.index(name))))
    ss_ev, ss_probe = spawn(int_seed((cfg.seed, 2)), 2)  # same eval samples for every cell
    ev = tr.evaluate_identifiability(method, proc, n_fit=cfg.n_fit, n_eval=cfg.n_eval,
                                     n_kernel_fit=cfg.n_kernel_fit, seed=ss_ev,
                                     style_baseline=False)
    probe = probe_accuracy(method, proc, cfg, ss_probe)
    print(f"{name:8s} B={batch:5d} ema={ema}: content R2 lin {ev['content']['linear']:.3f} ker "
          f"{ev['content']['kernel']:.3f} probe {probe:.3f} ({res.wall_time_s:.1f} s)", flush=True)
    return {"objective": name, "batch_size": batch, "ema": ema, "steps": steps,
            "content_r2_linear": ev["content"]["linear"], "content_r2_kernel":
            ev["content"]["kernel"], "probe_accuracy": probe, "wall_time_s": res.wall_time_s}


def probe_accuracy(method, proc, cfg, seed) -> float:
    """Linear-probe accuracy on the downstream task defined from the true content."""
    ss_fit, ss_ev = spawn(seed, 2)
    (h_f, z_f), (h_e, z_e) = (tr.embed_samples(method, proc, n, seed=s)
                              for n, s in ((cfg.n_fit, ss_fit), (cfg.n_eval, ss_ev)))
    c = list(proc.content_idx)
    y_f, y_e = (stats.downstream_labels(z[:, c], n_classes=cfg.n_classes, seed=cfg.seed)
                for z in (z_f, z_e))
    return stats.linear_probe_accuracy(h_f, y_f, h_e, y_e)["accuracy"]


def run(cfg: Config) -> dict:
    cells = [(n, b, None) for n in cfg.objectives for b in cfg.batch_sizes]
    cells += [(n, cfg.ema_batch_size, e) for n in cfg.objectives if "byol" in n for e in cfg.emas]
    runs = parallel_map(_cell, [(cfg, *c) for c in cells], workers=cfg.workers)
    return {"protocol": "reconstructed", "held_fixed": f"samples seen = {cfg.samples_seen}",
            "runs": runs, "spread": spreads(runs), "claims": verdicts(runs)}


def spreads(runs) -> list[dict]:
    """Per objective and sweep: max - min of each metric across the sweep."""
    out = []
    for sweep, key in (("batch_size", lambda r: r["ema"] is None),
                       ("ema", lambda r: r["ema"] is not None)):
        for name in dict.fromkeys(r["objective"] for r in runs if key(r)):
            rs = [r for r in runs if r["objective"] == name and key(r)]
            if len(rs) < 2:
                continue
            out.append({"sweep": sweep, "objective": name, **{
                f"{m}_spread": float(np.ptp([r[m] for r in rs])) for m in
                ("content_r2_linear", "content_r2_kernel", "probe_accuracy")}, **{
                f"{m}_min": float(min(r[m] for r in rs)) for m in
                ("content_r2_linear", "probe_accuracy")}})
    return out


def verdicts(runs) -> list[dict]:
    sp = {(s["sweep"], s["objective"]): s for s in spreads(runs)}
    out = []
    for sweep, er_name, others in (("batch_size", "er", ("simclr", "byol")),
                                   ("ema", "er_byol", ("byol",))):
        if (sweep, er_name) not in sp or not any((sweep, o) in sp for o in others):
            continue
        er_sp = sp[(sweep, er_name)]["content_r2_linear_spread"]
        oth = {o: sp[(sweep, o)]["content_r2_linear_spread"] for o in others if (sweep, o) in sp}
        v = ("supported" if er_sp < min(oth.values()) - 0.05 else
             "not supported" if er_sp > min(oth.values()) + 0.05 else "inconclusive")
        out.append(claim_verdict("C4", v, evidence={"sweep": sweep, f"{er_name}_spread": er_sp,
                   "other_spreads": oth, "all": [s for s in sp.values() if s["sweep"] == sweep]},
                   criterion=f"spread (max-min over the {sweep} sweep) of linear content R^2: "
                   f"{er_name} below every other by > 0.05 supported, above the smallest other by "
                   "> 0.05 not supported, else inconclusive", protocol="reconstructed",
                   n_seeds=1))
    return out


def plot(results: dict):
    runs = results["runs"]
    fig, axes = subplots(2, 3, axsize=(3.4, 2.4))
    metrics = ("content_r2_linear", "content_r2_kernel", "probe_accuracy")
    for row, (sweep, key) in enumerate((("batch_size", lambda r: r["ema"] is None),
                                        ("ema", lambda r: r["ema"] is not None))):
        for j, m in enumerate(metrics):
            ax = axes[row][j]
            for name in dict.fromkeys(r["objective"] for r in runs if key(r)):
                rs = [r for r in runs if r["objective"] == name and key(r)]
                xs = [r[sweep] if sweep == "batch_size" else 1 - r["ema"] for r in rs]
                ax.plot(xs, [r[m] for r in rs], "o-", label=name)
            ax.set(xscale="log", xlabel="batch size" if sweep == "batch_size" else
                   "1 - EMA base momentum", ylabel=m.replace("_", " "))
            ax.legend(fontsize=7)
    fig.suptitle(f"C4: {results['held_fixed']}", fontsize=9)
    return fig


def main(argv=None):
    run_study("batch_size_robustness", Config, run, plot, argv, quick=QUICK,
              presets={"paper_scale": PAPER}, description=__doc__,
              tables=lambda r: {"batch_size_robustness": r["runs"],
                                "batch_size_robustness_spread": r["spread"]})


if __name__ == "__main__":
    main()
