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

Run:  python -m studies.normality_vs_noise [--quick] [--paper-scale] [--dataset SPEC]
Writes: figures/normality_vs_noise.{png,pdf,json}

Protocol ``reconstructed`` (the paper's test, dimensions, sample sizes, noise levels and models
are unknown, dossier vicreg_infotheory.md Sec. 4): everything above is our reading. The noise is
not clipped to [0, 1] (clipping would make the input non-Gaussian). Laptop scale: width 4,
200 steps of 32 pairs; ``--paper-scale``: width 64 on CIFAR-10, 5 trials (GPU).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from mitheory import train as tr
from mitheory.cpa import cpa_from_resnet, noise_response, noise_response_curves, trace_cpa
from mitheory.plotting import labelled_boxplot, quantile_band
from mitheory.stats import even_checkpoints, pool_noise_sweeps
from mitheory.study import Threshold, group_rows, run_study, subplots, threshold_verdict


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


QUICK = replace(Config(), objectives=("vicreg",), steps=2, n_checkpoints=2, batch_size=8, width=2,
                projector="16-16", n_prototypes=2, noise_scales=(1e-3, 0.3), exit_scales=(1e-6,),
                n_noise=40, test_dim=2, n_exit=4, n_distance=40, n_monitor=40)
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
              ("<", 0.9), key="pairs_apart_at_s_gauss"))


def run(cfg: Config) -> dict:
    _, ss_proto, ss_dist, ss_train, ss_mon = ((cfg.seed, i) for i in range(5))  # 0: dataset
    if cfg.train_on not in ("world", "dataset") or (cfg.train_on == "dataset" and not cfg.dataset):
        raise ValueError(f"train_on={cfg.train_on!r}: use 'world', or 'dataset' with --dataset")
    source = "world" if cfg.train_on == "world" else cfg.dataset
    protos, _ = tr.sample_images(source, cfg.n_prototypes, ss_proto)
    monitor, chance = tr.knn_checkpoint_monitor(*tr.sample_images(source, cfg.n_monitor, ss_mon))
    distances = tr.raw_image_distances(filter(None, ("world", "digits", cfg.dataset)),
                                       cfg.n_distance, cfg.noise_scales, seed=ss_dist)
    sampler, augment = tr.image_training_source(source, batch_size=cfg.batch_size, seed=cfg.seed)
    runs = []
    for name, trial in ((n, t) for n in cfg.objectives for t in range(cfg.n_trials)):
        method = tr.make_image_method(name, width=cfg.width, projector=cfg.projector)
        res, history = tr.train_on_schedule(method, sampler, monitor, cfg,
                                            seed=(*ss_train, trial), augment=augment)
        # plateau: loss within 2% (interval means); kNN accuracy within 0.03, about one
        # binomial sd of an accuracy near 0.5 on n_monitor / 2 = 200 images
        trend = tr.checkpoint_trends(history, res.losses, tols={"knn_accuracy": 0.03})
        cnet = trace_cpa(cpa_from_resnet(method.encoder.backbone).eval())
        sweep, exits = noise_response(  # the same noise for every objective (same seeds)
            lambda x: tr.embed_images(method, x), cnet, protos, cfg.noise_scales, alpha=cfg.alpha,
            exit_scales=cfg.exit_scales, n_noise=cfg.n_noise, n_exit=cfg.n_exit, tests=cfg.methods,
            test_dim=cfg.test_dim, seed=(cfg.seed, 10 + trial), exit_seed=(cfg.seed, 20 + trial))
        runs.append({"objective": name, "trial": trial, "train": res.to_dict(), "history": history,
                     "trend": trend, "sweep": sweep, "exit_small_scales": exits})
    claims = [c7_verdict(g, distances[source], cfg) for g in group_rows(runs, "objective").values()]
    return {"protocol": "reconstructed", "features": "backbone output (before the projector)",
            "projection": f"PCA to {cfg.test_dim} dims of each prototype's outputs",
            "decisive_test": cfg.methods[0], "train_on": source,
            "checkpoints": even_checkpoints(cfg.steps, cfg.n_checkpoints),
            "knn_chance": chance, "runs": runs, "distances": distances, "claims": claims}


def c7_verdict(runs: list[dict], dist: dict, cfg: Config) -> dict:
    """C7 for one objective, pooled over its trials (the rules in ``C7_RULES``)."""
    pooled = pool_noise_sweeps([r["sweep"] for r in runs], cfg.methods[0],
                               min_pass=C7_RULES[0].supported[1])
    values = {k: pooled.pop(k) for k in ("pass_small_noise", "pass_drop")}
    values["pairs_apart_at_s_gauss"] = dist["fraction_apart"][str(pooled["s_gauss"])]
    trends = {k: sorted({r["trend"][k] for r in runs}) for k in ("loss", "knn_accuracy")}
    return threshold_verdict(
        "C7", values, C7_RULES, subject=f"{runs[0]['objective']}, backbone outputs under pixel "
        "noise", protocol="reconstructed", n_seeds=len(runs), evidence={**pooled, "trend": trends},
        notes=f"part: {runs[0]['objective']}\ntraining after {cfg.steps} steps: loss "
              f"{', '.join(trends['loss'])}; kNN accuracy {', '.join(trends['knn_accuracy'])}")


def plot(results: dict):
    fig, axes = subplots(1, 2, axsize=(3.6, 2.8))
    (ax_p, ax_d), test, dist = axes[0], results["decisive_test"], results["distances"]
    for r in results["runs"]:
        c = noise_response_curves(r["sweep"], test, r["exit_small_scales"])
        line = quantile_band(ax_p, c["s"], c["p_value"], label=f"{r['objective']} (median p)")
        ax_p.plot(c["exit_s"], c["exit"], "x:", color=line.get_color())  # P(exit)=0: not drawn
    ax_p.axhline(0.01, color="k", ls="--", label="p = 0.01")
    ax_p.plot([], [], "kx:", label="P(noise leaves the region of x*)")
    ax_p.set(xscale="log", yscale="log", ylim=(1e-6, 1.5), title="normality of outputs vs noise",
             xlabel="pixel noise sd s", ylabel=f"{test} p-value (25-75%) / exit probability")
    ax_p.legend(fontsize=5)
    labelled_boxplot(ax_d, {n.split(":")[0]: d["rms_pixel_distance"] for n, d in dist.items()},
                     hlines=[2 * row["s"] for row in results["runs"][0]["sweep"]], yscale="log",
                     ylabel="pairwise l2 distance / sqrt(D)",
                     title="raw images (dashed: 2 x noise norm / sqrt(D))")
    return fig


def main(argv=None):
    run_study("normality_vs_noise", Config, run, plot, argv, quick=QUICK,
              presets={"paper_scale": PAPER}, description=__doc__)


if __name__ == "__main__":
    main()
