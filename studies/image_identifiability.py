"""Does SSL on images recover the content factors and discard style? Claim C3 on rendered images.

Paper: von Kuegelgen et al. 2021 (Thm. 4.4). ImageWorld view pairs share content (class,
position, scale) and resample style (rotation, hues, texture). Each objective trains a CIFAR-stem
ResNet-18 + projector; the linear and RBF-kernel R^2 of each factor from the frozen backbone (and,
at the end, the projector output) is recorded at checkpoints, next to the R^2 of style from the
true content; a class linear probe is compared with chance and with the random encoder.

Run:  python -m studies.image_identifiability [--quick] [--paper-scale] [--steps N] [--width W]
Writes: figures/image_identifiability.{png,pdf,json,md}

Protocol ``reconstructed``: the image world, encoder width and training length are ours (no
paper trains on it). ER is the Euclidean ``er_gaussian`` (the ResNet embedding is not on a
sphere). Laptop scale: base width 8, 400 steps of 64 pairs; ``--paper-scale``: width 64, GPU.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mitheory import train as tr
from mitheory.generative import ImageWorld
from mitheory.stats import even_checkpoints
from mitheory.study import Threshold, run_study, spawn, subplots, threshold_verdict


@dataclass(frozen=True)
class Config:
    objectives: tuple[str, ...] = ("simclr", "vicreg", "byol", "er_gaussian")  # registered methods
    seed: int = 0  # root seed of every stream of the study
    steps: int = 400  # optimiser steps per objective
    n_checkpoints: int = 3  # evaluations along training (evenly spaced, the last at the end)
    batch_size: int = 64  # view pairs per step
    lr: float = 2e-3  # peak AdamW learning rate (linear warmup over 10% of steps, then cosine)
    width: int = 8  # ResNet-18 base width (64 in the papers)
    projector: str = "128-128"  # projector widths after the backbone
    p_change: float = 1.0  # probability that each style factor changes between the views
    n_fit: int = 1500  # images the R^2 regressions and probes are fitted on
    n_eval: int = 1000  # held-out images they are scored on
    n_kernel_fit: int = 600  # fit images of the kernel ridge (O(n^3))
    device: str = "auto"  # auto, cpu or cuda[:i]


QUICK = replace(Config(), objectives=("simclr",), steps=4, n_checkpoints=2,
                batch_size=24, width=4, projector="32-32", n_fit=200, n_eval=200,
                n_kernel_fit=100)
PAPER = replace(Config(), steps=5000, batch_size=256, lr=1e-3, width=64, projector="2048-2048",
                n_fit=10_000, n_eval=5000, n_kernel_fit=2000)
SUMMARY_KEYS = ("min_content_r2_kernel", "max_style_excess_over_content_prediction",
                "probe_accuracy", "knn_accuracy")
C3_RULES = (Threshold("min content kernel R^2 (position, scale)", (">=", 0.9), ("<", 0.7),
                      key="min_content_r2_kernel"),
            Threshold("max style kernel R^2 beyond the R^2 of style from the true content",
                      ("<=", 0.1), (">", 0.3), key="max_style_excess_over_content_prediction"))


def run(cfg: Config) -> dict:
    # tuple seeds (a fresh SeedSequence at each use): every objective gets the same init and data
    ss_world, ss_eval, ss_train, ss_kernel = ((cfg.seed, i) for i in range(4))
    world = ImageWorld(image_size=32, p_change=cfg.p_change, seed=ss_world)
    split = tr.FactorSplit.draw(world, cfg.n_fit, cfg.n_eval, seed=ss_eval)
    arch = {"width": cfg.width, "projector": cfg.projector}

    def evaluate(method, **kw):  # R^2 of each factor, probes, and the numbers C3 is decided on
        ev = tr.image_identifiability(method, world, split, n_kernel_fit=cfg.n_kernel_fit,
                                      seed=ss_kernel, **kw)
        return {**ev, **tr.identifiability_summary(ev, world, ev.get("style_from_content")
                                                   or rand["style_from_content"])}

    # the random encoder is every objective's start (train_images spawns (init, data) from its seed)
    rand = evaluate(tr.init_image_method_(tr.make_image_method("vicreg", **arch),
                                          spawn(ss_train, 2)[0]), style_baseline=True)
    rows, claims = [], []
    for name in cfg.objectives:
        head: dict = {}  # the projector output at the end: the features the loss made invariant

        def checkpoint(step, method):
            h = evaluate(method)
            print(f"{name} step {step}: " + ", ".join(f"{k} {h[k]:.3f}" for k in SUMMARY_KEYS))
            if step == cfg.steps:
                head.update(evaluate(method, features="encoder"))
            return h

        res, history = tr.train_on_schedule(tr.make_image_method(name, **arch), world, checkpoint,
                                            cfg, seed=ss_train)
        last = history[-1]
        trend = {r.name: tr.trend_status([h[r.name] for h in history]) for r in C3_RULES}
        rows.append({"objective": name, "train": res.to_dict(), "history": history,
                     "trend": trend, "projector_output": head,
                     **{k: last[k] for k in SUMMARY_KEYS}})
        claims.append(threshold_verdict(
            "C3", {r.name: last[r.name] for r in C3_RULES}, C3_RULES,
            subject=f"{name} on rendered images", protocol="reconstructed", n_seeds=1,
            evidence={"probe_accuracy": last["probe_accuracy"],
                      "random_encoder_probe_accuracy": rand["probe"]["accuracy"],
                      "chance": rand["probe"]["chance"], "steps": cfg.steps, "trend": trend,
                      "projector_output": {k: head[k] for k in SUMMARY_KEYS}},
            notes=f"R^2 over the last two checkpoints: content {trend['min_content_r2_kernel']},"
                  f" style {trend['max_style_excess_over_content_prediction']}"))
    return {"protocol": "reconstructed", "runs": rows, "random_encoder": rand,
            "checkpoints": even_checkpoints(cfg.steps, cfg.n_checkpoints),
            "style_from_content": rand["style_from_content"], "claims": claims}


def table(results: dict) -> list[dict]:
    def row(label, r, trend=""):
        return {"encoder": label, **{f"R2 {n} lin/ker": f"{v['linear']:.3f} / {v['kernel']:.3f}"
                                     for n, v in r["r2"].items()},
                "probe acc": f"{r['probe_accuracy']:.3f}", "kNN acc": f"{r['knn_accuracy']:.3f}",
                "content trend": trend}
    runs = results["runs"]
    return [*(row(r["objective"], {**r, **r["history"][-1]}, r["trend"]["min_content_r2_kernel"])
              for r in runs), row("random init", results["random_encoder"]),
            *(row(f"{r['objective']} (projector out)", r["projector_output"]) for r in runs)]


def plot(results: dict):
    fig, axes = subplots(1, 3, axsize=(3.4, 2.6))
    ax_f, ax_t, ax_p = axes[0]
    names, runs = list(results["random_encoder"]["r2"]), results["runs"]
    x = np.arange(len(names))
    for i, r in enumerate(runs):
        last = r["history"][-1]["r2"]
        ax_f.bar(x + 0.18 * i, [last[n]["kernel"] for n in names], 0.18, label=r["objective"])
        ax_t.plot([h["step"] for h in r["history"]],
                  [h["min_content_r2_kernel"] for h in r["history"]], "o-", label=r["objective"])
    base = [results["style_from_content"].get(n, {"kernel": np.nan})["kernel"] for n in names]
    ax_f.scatter(x, base, marker="_", s=200, color="k", label="style from true content")
    ax_f.set(xticks=x, ylabel="kernel R$^2$ (backbone)", ylim=(-0.1, 1.05), title="factors")
    ax_f.set_xticklabels(names, rotation=40, ha="right")
    ax_t.set(xlabel="step", ylabel="min content kernel R$^2$", title="along training")
    ax_p.bar([r["objective"] for r in runs], [r["probe_accuracy"] for r in runs])
    rand = results["random_encoder"]["probe"]
    ax_p.axhline(rand["accuracy"], color="k", ls="--", label="random encoder")
    ax_p.axhline(rand["chance"], color="gray", ls=":", label="chance")
    ax_p.set(ylabel="class linear-probe accuracy", title="linear probe")
    for ax in (ax_f, ax_t, ax_p):
        ax.legend(fontsize=6)
    return fig


def main(argv=None):
    run_study("image_identifiability", Config, run, plot, argv, quick=QUICK,
              presets={"paper_scale": PAPER}, description=__doc__,
              tables=lambda r: {"image_identifiability": table(r)})


if __name__ == "__main__":
    main()
