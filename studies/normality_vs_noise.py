"""Are SSL outputs Gaussian under small input noise, and do raw images sit far apart? Claim C7.

Paper: Shwartz-Ziv et al. 2023 (paper 004), Fig. 1, read against Theorem 1 (C6): a CPA network
maps ``x* + eps``, ``eps ~ N(0, s^2 I)``, to a Gaussian while the noise stays in the activation
region of ``x*``. Each registered SSL method trains a CIFAR-stem ResNet-18 on the rendered
ImageWorld; for prototypes ``x*`` (rendered images) and log-spaced pixel-noise scales ``s`` the
backbone outputs (the representation the papers evaluate, before the projector) are projected
by PCA and tested for normality (Henze-Zirkler, Mardia, D'Agostino-Pearson); next to them, the
Monte Carlo probability that the noise leaves the region of ``x*`` (``mitheory.cpa``, on the
backbone converted by ``cpa_from_resnet``). Right panel: pairwise l2 distances of raw images per
dataset against the noise norm ``s sqrt(D)``.

Run:  python -m studies.normality_vs_noise [--quick] [--paper-scale --dataset cifar10:PATH]
      [--dataset imagefolder:PATH]
Writes: figures/normality_vs_noise.{png,pdf,json}

Protocol ``reconstructed`` (the paper's test, dimensions, sample sizes, noise levels and models
are unknown, dossier vicreg_infotheory.md Sec. 4): everything above is our reading. The noise is
not clipped to [0, 1] (clipping would make the input non-Gaussian). Laptop scale: width 4,
200 steps of 32 pairs; ``--paper-scale``: width 64 on CIFAR-10, 5 trials (GPU).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from mitheory import train as tr
from mitheory.cpa import cpa_from_resnet, exit_probability_mc, trace_cpa
from mitheory.data import TwoViewAugment, shuffled_loader
from mitheory.generative import ImageWorld
from mitheory.stats import even_checkpoints, normality_tests, relative_trend_status
from mitheory.study import Threshold, as_generator, run_study, spawn, subplots, threshold_verdict


@dataclass(frozen=True)
class Config:
    objectives: tuple[str, ...] = ("vicreg", "simclr", "byol", "er_gaussian")  # registered methods
    seed: int = 0  # root seed of every stream of the study
    n_trials: int = 1  # independent trainings (seeds) per objective
    steps: int = 200  # optimiser steps per training
    n_checkpoints: int = 3  # evaluations of loss and kNN accuracy along training
    batch_size: int = 32  # view pairs per step
    lr: float = 2e-3  # peak AdamW learning rate (10% linear warmup, then cosine)
    width: int = 4  # ResNet-18 base width (64 in the papers); backbone output is 8 x width
    projector: str = "64-64"  # projector widths after the backbone (trained, not tested)
    dataset: str = ""  # extra raw-image dataset: cifar10:PATH, cifar100:PATH or imagefolder:PATH
    train_on: str = "world"  # world (the rendered ImageWorld) or dataset (the --dataset images)
    n_prototypes: int = 12  # clean images x* whose noise neighbourhoods are tested
    noise_scales: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3)  # pixel-noise sd s
    exit_scales: tuple[float, ...] = (1e-7, 1e-6, 1e-5)  # extra, smaller s: exit probability only
    n_noise: int = 150  # noisy copies per prototype and scale (rows of each normality test)
    test_dim: int = 8  # PCA dimension of the backbone outputs before testing
    methods: tuple[str, ...] = ("hz", "mardia", "dagostino")  # normality tests; the first decides
    alpha: float = 0.01  # level of the tests (the paper's "99%" line)
    n_exit: int = 24  # noise draws per prototype and scale for the region-exit probability
    n_distance: int = 300  # images per dataset whose pairwise distances are measured
    n_monitor: int = 400  # labelled images for the kNN monitor (half fit, half eval)
    device: str = "auto"  # auto, cpu or cuda[:i]


QUICK = replace(Config(), objectives=("vicreg",), steps=2, n_checkpoints=2, batch_size=8,
                width=2, projector="16-16", n_prototypes=2, noise_scales=(1e-3, 0.3),
                exit_scales=(1e-6,), n_noise=40, test_dim=2, n_exit=4, n_distance=40,
                n_monitor=40)
PAPER = replace(Config(), n_trials=5, steps=20_000, batch_size=256, lr=1e-3, width=64,
                projector="2048-2048", train_on="dataset", n_prototypes=50, n_noise=2000,
                test_dim=16, n_exit=1000, n_distance=2000, n_monitor=10_000)
# C7 per objective. Under H0 each prototype passes with probability 0.99, so a pass fraction
# < 0.75 of 12 has probability ~5e-6; a drop of >= 0.5 is half the prototypes turning
# non-Gaussian. s_gauss: the largest s up to which every scale passes (>= 0.75). Twice the
# noise norm: the shells ||x - x*|| ~ s sqrt(D) of two prototypes do not intersect (the norm of
# high-dimensional noise concentrates at s sqrt(D))
C7_RULES = (
    Threshold("fraction of prototypes not rejected at the smallest s", (">=", 0.75), ("<", 0.5),
              key="pass_small_noise"),
    Threshold("drop of that fraction from the smallest to the largest s", (">=", 0.5),
              ("<", 0.125), key="pass_drop"),
    Threshold("fraction of raw-image pairs farther apart than 2 s_gauss sqrt(D)", (">=", 0.99),
              ("<", 0.9), key="pairs_apart_at_s_gauss"),
)


WORLD_SEED = 0  # the rendered world (its seed fixes only the optional factor dependences)


def raw_distances(x: torch.Tensor, scales) -> dict:
    """Quantiles of the pairwise l2 distances of flattened images, and for each s the fraction
    of pairs farther apart than twice the noise norm ``2 s sqrt(D)``."""
    flat = x.reshape(len(x), -1).double()
    d = torch.pdist(flat).numpy()
    dim = flat.shape[1]
    qs = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
    return {"dim": dim, "n_images": len(x), "quantiles": dict(zip(map(str, qs),
                                                                  np.quantile(d, qs).tolist())),
            # every k-th distance / sqrt(D), at most 2000 (the box plot; not the fractions)
            "rms_pixel_distance": (d[::max(1, len(d) // 2000)] / np.sqrt(dim)).tolist(),
            "fraction_apart": {str(s): float(np.mean(d > 2 * s * np.sqrt(dim))) for s in scales}}


def noise_response(method, cnet, protos: torch.Tensor, cfg: Config, seed) -> list[dict]:
    """Per noise scale: normality of ``embed(x* + eps)`` per prototype and the exit probability."""
    rows = []
    for j, s in enumerate(cfg.noise_scales):
        ss_noise, ss_exit = spawn((*seed, j), 2)
        rng = as_generator(ss_noise)
        tests = []
        for i, x in enumerate(protos):  # the same noise for every objective (same seed)
            eps = rng.standard_normal((cfg.n_noise, *x.shape)).astype(np.float32)
            z = tr.embed_images(method, x[None] + s * torch.from_numpy(eps))  # (n_noise, 8w)
            res = normality_tests(z, methods=cfg.methods, alpha=cfg.alpha, max_dim=cfg.test_dim,
                                  projection="pca", seed=(*seed, j, i))
            tests.append({m: {"p_value": r.p_value, "reject": r.reject, "dim": r.dim,
                              "rank_input": r.rank_input} for m, r in res.items()})
            if j == 0 and i == 0:  # float32 forward vs the float64 traced network, same inputs
                z64 = cnet(x[None].double() + s * torch.from_numpy(eps[:16]).double()).numpy()
                f32_error = float(np.max(np.abs(z[:16] - z64)) / np.median(z.std(0) + 1e-300))
        exit_mc = exit_probability_mc(cnet, protos, s**2, n_samples=cfg.n_exit, seed=ss_exit)
        rows.append({"s": s, "noise_norm": s * float(np.sqrt(protos[0].numel())),
                     "tests": tests, "exit": exit_mc.estimate.tolist(),
                     **{f"pass_{m}": float(np.mean([not t[m]["reject"] for t in tests]))
                        for m in cfg.methods}})
    rows[0]["float32_error_over_output_sd"] = f32_error
    return rows


def run(cfg: Config) -> dict:
    ss_data, ss_proto, ss_dist, ss_train, ss_mon = ((cfg.seed, i) for i in range(5))
    if cfg.train_on not in ("world", "dataset") or (cfg.train_on == "dataset" and not cfg.dataset):
        raise ValueError(f"train_on must be 'world', or 'dataset' with --dataset given, got "
                         f"train_on={cfg.train_on!r}, dataset={cfg.dataset!r}")
    source = "world" if cfg.train_on == "world" else cfg.dataset
    protos, _ = tr.sample_images(source, cfg.n_prototypes, ss_proto)
    mon_x, mon_y = tr.sample_images(source, cfg.n_monitor, ss_mon)
    half = cfg.n_monitor // 2
    knn_chance = float(np.bincount(mon_y[half:]).max() / len(mon_y[half:]))  # majority class
    specs = ["world", "digits", *([cfg.dataset] if cfg.dataset else [])]
    distances = {s: raw_distances(tr.sample_images(s, cfg.n_distance, ss_dist)[0], cfg.noise_scales)
                 for s in specs}
    world_d = distances[source]
    at = even_checkpoints(cfg.steps, cfg.n_checkpoints)
    if cfg.train_on == "world":
        sampler, augment = ImageWorld(image_size=32, seed=WORLD_SEED), None
    else:
        x_tr, _ = tr.sample_images(cfg.dataset, 50_000, ss_data)
        sampler = shuffled_loader(x_tr, cfg.batch_size, cfg.seed)
        augment = TwoViewAugment("simclr", 32, blur=False)
    runs, claims, primary = [], [], cfg.methods[0]
    for name in cfg.objectives:
        for trial in range(cfg.n_trials):
            def monitor(step, method):
                return {"knn_accuracy": tr.knn_monitor(method, mon_x[:half], mon_y[:half],
                                                       mon_x[half:], mon_y[half:],
                                                       k=min(20, half))["accuracy"]}

            method = tr.make_image_method(name, width=cfg.width, projector=cfg.projector)
            res, history = tr.train_on_schedule(method, sampler, monitor, cfg,
                                                seed=(*ss_train, trial), augment=augment)
            # mean logged loss since the previous checkpoint (step k: the (k+1)-th update's loss)
            for h, loss in zip(history, tr.interval_losses([res.losses], [0, *at])):
                h["loss"] = loss
            cnet = trace_cpa(cpa_from_resnet(method.encoder.backbone).eval())
            sweep = noise_response(method, cnet, protos, cfg, (cfg.seed, 10 + trial))
            print(f"{name} trial {trial}: pass fraction ({primary}) " + ", ".join(
                f"s={r['s']:g}: {r[f'pass_{primary}']:.2f}" for r in sweep))
            exits = [exit_probability_mc(cnet, protos, s**2, n_samples=cfg.n_exit,
                                         seed=(cfg.seed, 20 + trial, k)).estimate.mean()
                     for k, s in enumerate(cfg.exit_scales)]
            # plateau tolerances: 2% of the loss; kNN accuracy 0.03, about one binomial sd
            # of an accuracy near 0.5 on n_monitor / 2 = 200 images
            trend = {"loss": relative_trend_status([h["loss"] for h in history]),
                     "knn_accuracy": tr.trend_status([h["knn_accuracy"] for h in history],
                                                     tol=0.03)}
            runs.append({"objective": name, "trial": trial, "train": res.to_dict(),
                         "history": history, "trend": trend, "sweep": sweep,
                         "exit_small_scales": dict(zip(map(str, cfg.exit_scales), exits))})
        claims.append(c7_verdict(name, [r for r in runs if r["objective"] == name], world_d,
                                 cfg))
    return {"protocol": "reconstructed", "features": "backbone output (before the projector)",
            "projection": f"PCA to {cfg.test_dim} dims of each prototype's outputs",
            "decisive_test": primary, "train_on": source, "checkpoints": at,
            "knn_chance": knn_chance,
            "runs": runs, "distances": distances, "claims": claims}


def gaussian_up_to(scales, passed) -> float:
    """The largest noise scale up to which every (ascending) scale has a pass fraction
    >= 0.75; the smallest scale when even it fails (the first C7 rule then already refutes)."""
    s_gauss = scales[0]
    for s, p in zip(scales, passed):
        if p < C7_RULES[0].supported[1]:
            break
        s_gauss = s
    return s_gauss


def c7_verdict(name: str, runs: list[dict], dist: dict, cfg: Config) -> dict:
    """C7 for one objective, pooled over its trials (the rules in ``C7_RULES``)."""
    key = f"pass_{cfg.methods[0]}"
    passed = np.mean([[row[key] for row in r["sweep"]] for r in runs], axis=0)  # per scale
    s_gauss = gaussian_up_to(cfg.noise_scales, passed)
    values = {"pass_small_noise": passed[0], "pass_drop": passed[0] - passed[-1],
              "pairs_apart_at_s_gauss": dist["fraction_apart"][str(s_gauss)]}
    trends = {k: sorted({r["trend"][k] for r in runs}) for k in ("loss", "knn_accuracy")}
    return threshold_verdict(
        "C7", values, C7_RULES, subject=f"{name}, backbone outputs under pixel noise",
        protocol="reconstructed", n_seeds=len(runs),
        evidence={"pass_fraction_by_scale": dict(zip(map(str, cfg.noise_scales),
                                                     passed.tolist())),
                  "s_gauss": s_gauss, "test": cfg.methods[0], "trend": trends,
                  "exit_probability_by_scale": {str(s): float(np.mean(
                      [r["sweep"][j]["exit"] for r in runs])) for j, s in
                      enumerate(cfg.noise_scales)}},
        notes=f"training after {cfg.steps} steps: loss {', '.join(trends['loss'])}; kNN accuracy "
              f"{', '.join(trends['knn_accuracy'])}")


def plot(results: dict):
    fig, axes = subplots(1, 2, axsize=(3.6, 2.8))
    ax_p, ax_d = axes[0]
    test = results["decisive_test"]
    for r in results["runs"]:
        s = [row["s"] for row in r["sweep"]]
        p = np.array([[t[test]["p_value"] for t in row["tests"]] for row in r["sweep"]])
        line, = ax_p.plot(s, np.median(p, 1), "o-", label=f"{r['objective']} (median p)")
        ax_p.fill_between(s, np.quantile(p, 0.25, 1), np.quantile(p, 0.75, 1), alpha=0.2,
                          color=line.get_color())
        small = r["exit_small_scales"]  # P(exit) = 0 points are not drawn on the log axis
        ax_p.plot([*map(float, small), *s], [*small.values(), *(np.mean(row["exit"])
                                                                 for row in r["sweep"])],
                  "x:", color=line.get_color())
    ax_p.axhline(0.01, color="k", ls="--", label="p = 0.01")
    ax_p.plot([], [], "kx:", label="P(noise leaves the region of x*)")
    ax_p.set(xscale="log", yscale="log", ylim=(1e-6, 1.5), xlabel="pixel noise sd s",
             ylabel=f"{test} p-value (25-75%) / exit probability",
             title="normality of outputs vs noise")
    names = list(results["distances"])
    ax_d.boxplot([results["distances"][n]["rms_pixel_distance"] for n in names],
                 showfliers=False)
    ax_d.set_xticks(range(1, len(names) + 1), [n.split(":")[0] for n in names])
    s_all = results["runs"][0]["sweep"]
    for row in s_all:
        ax_d.axhline(2 * row["s"], color="gray", lw=0.6, ls="--")
    ax_d.set(yscale="log", ylabel="pairwise l2 distance / sqrt(D)",
             title="raw images (dashed: 2 x noise norm / sqrt(D))")
    ax_p.legend(fontsize=5)
    return fig


def main(argv=None):
    run_study("normality_vs_noise", Config, run, plot, argv, quick=QUICK,
              presets={"paper_scale": PAPER}, description=__doc__)


if __name__ == "__main__":
    main()
