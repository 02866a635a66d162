"""Does VICReg keep a higher representation entropy during training than other SSL methods? C8.

Paper: Shwartz-Ziv et al., "An information-theoretic perspective on VICReg" (NeurIPS 2023),
Fig. 2 (ResNet-18 on CIFAR-10, 5 trials, mean +- standard error). Each method trains from the
same seeds (trial t: same data stream and initialisation for every method); at checkpoints the
embeddings of a fixed held-out image set are scored by three entropy estimators
(:func:`mitheory.info.representation_entropies`): LogDet 1/2 log det(I + C) (Zhouyin & Liu
2021), the Kolchinsky-Tracey pairwise-distance bounds on the mixture of N(z_i, sigma^2 I) (KL
upper, Bhattacharyya lower) and Kozachenko-Leonenko kNN. VICReg is compared with each method
by two-sided paired t-tests across trials (Holm-adjusted over methods x estimators), at the
final checkpoint and on the area under the curve / steps.

Run:  python -m studies.entropy_during_training [--quick] [--paper-scale --dataset cifar10:PATH]
Writes: figures/entropy_during_training.{png,pdf,json,md}

Protocol ``reconstructed`` (the paper's estimator, representation, normalisation and recipes
are unknown, dossier Sec. 5): the verdict is read on the projector output (the embedding the
VICReg loss and the paper's entropy argument act on), rescaled by one scalar per checkpoint so
the mean per-dimension variance is 1 ("isotropic": entropy is scale-dependent, this removes
only the overall scale); the backbone output, the unit-sphere footing (rows scaled to norm
sqrt(d)) and raw outputs are reported beside it. ER is the Euclidean ``er_gaussian``. Laptop
scale: rendered ImageWorld pairs, ResNet-18 width 8 with the ImageNet stem (8x8 maps after the
stem: 3x cheaper than the CIFAR stem), 200 AdamW steps; ``--paper-scale``: width 64, CIFAR
stem, VICReg augmentations, GPU.

ER's decoder/KDE width: the default sigma = sqrt(0.1) is the twin of kappa = 10 for unit-sphere
outputs; on images the projector output starts ~100x smaller than unit scale and, in a 240-step
probe run (one seed), the encoder barely moved from its initialisation (its isotropic entropies
stayed at or above the random encoder's; image_identifiability's er_gaussian R^2 is that of the
random encoder too). sigma = 1 (the unit scale VICReg's variance term targets) trains; it is
the default here and logged, and ``--er-sigma`` reruns the other.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from mitheory import train as tr
from mitheory.plotting import mean_se_panels
from mitheory.stats import compare_with_reference, family_vote_criterion, family_vote_table
from mitheory.study import claim_verdict, parallel_map, run_study, spawn

ESTIMATORS = ("logdet", "kl_upper", "bhattacharyya_lower", "knn")
FAMILIES = {"logdet": ("logdet",), "pairwise": ("kl_upper", "bhattacharyya_lower"),
            "knn": ("knn",)}  # a family says "higher" only if all its quantities do
FOOTINGS = tuple(f"{r}/{n}" for r in ("projector", "backbone")
                 for n in ("isotropic", "sphere", "raw"))  # representation/normalisation


@dataclass(frozen=True)
class Config:
    methods: tuple[str, ...] = ("vicreg", "simclr", "byol", "barlow", "er_gaussian")  # registered
    reference: str = "vicreg"  # the method compared with every other one
    seed: int = 0  # root seed of every stream of the study
    n_trials: int = 5  # seeds per method (trial t shares data and init across methods)
    steps: int = 200  # optimiser steps per run
    n_checkpoints: int = 5  # evaluations along training (evenly spaced), plus step 0
    batch_size: int = 64  # view pairs per step
    lr: float = 2e-3  # peak AdamW learning rate (linear warmup over 10% of steps, then cosine)
    width: int = 8  # ResNet-18 base width (64 in the paper)
    stem: str = "imagenet"  # ResNet stem: imagenet (stride-4, cheap) or cifar (stride 1)
    projector: str = "64-64"  # projector widths after the backbone
    er_sigma: float = 1.0  # er_gaussian decoder/KDE std (its default sqrt(0.1) stays near init)
    dataset: str = "imageworld"  # imageworld, cifar10:PATH or imagefolder:PATH
    augment: str = ""  # two-view recipe (simclr/byol/vicreg; '' = ImageWorld pairs as rendered)
    n_eval: int = 1000  # fixed held-out images the entropies are computed on
    verdict_footing: str = "projector/isotropic"  # representation/normalisation of the verdict
    kernel_sigma: float = 0.5  # pairwise kernel std, as a fraction of sqrt(dim)
    knn_k: int = 3  # Kozachenko-Leonenko neighbour order
    alpha: float = 0.05  # level of the Holm-adjusted one-sided paired t-tests
    workers: int = 1  # processes for the (method, trial) runs (results do not depend on it)
    device: str = "auto"  # auto, cpu or cuda[:i]


QUICK = replace(Config(), methods=("vicreg", "simclr"), n_trials=2, steps=4, n_checkpoints=2,
                batch_size=16, width=4, projector="16-16", n_eval=120)
PAPER = replace(Config(), steps=20_000, batch_size=256, lr=1e-3, width=64, stem="cifar",
                projector="2048-2048", n_checkpoints=10, n_eval=5000, augment="vicreg")


def train_cell(cfg: Config, name: str, trial: int) -> dict:
    """One (method, trial) run: entropies of the held-out set at step 0 and each checkpoint."""
    sampler, held_out, augment = tr.held_out_source(
        cfg.dataset, n_held_out=cfg.n_eval, batch_size=cfg.batch_size, augment=cfg.augment,
        seed=cfg.seed)
    # projector = the loss input; backbone = before the projector; every footing
    evaluate = tr.entropy_checkpoint_monitor(held_out, kernel_sigma=cfg.kernel_sigma,
                                             knn_k=cfg.knn_k)
    opts = {"sigma": cfg.er_sigma} if name.startswith("er_gaussian") else {}
    method = tr.make_image_method(name, width=cfg.width, stem=cfg.stem, projector=cfg.projector,
                                  **opts)
    res, history = tr.train_on_schedule(  # trial t: the same seed for every method (paired)
        method, sampler, evaluate, cfg, seed=spawn((cfg.seed, 2), cfg.n_trials)[trial],
        augment=augment, initial=True, log_every=5,
        recipe=(cfg.augment or None) if augment is None else None)  # on the rendered pairs
    print(f"{name} trial {trial}: {res.wall_time_s:.0f} s, final {cfg.verdict_footing}",
          history[-1][cfg.verdict_footing], flush=True)
    return {"method": name, "trial": trial, "history": history, "train": res.to_dict()}


def run(cfg: Config) -> dict:
    if cfg.reference not in cfg.methods or len(cfg.methods) < 2:
        raise ValueError(f"methods must hold reference={cfg.reference!r} and another method, "
                         f"got {cfg.methods}")
    if cfg.verdict_footing not in FOOTINGS:
        raise ValueError(f"verdict_footing must be one of {FOOTINGS}, got {cfg.verdict_footing!r}")
    cells = [(cfg, m, t) for m in cfg.methods for t in range(cfg.n_trials)]
    runs = parallel_map(train_cell, cells, workers=cfg.workers, seed=cfg.seed)
    steps = [h["step"] for h in runs[0]["history"]]
    # per footing: mean +- se, paired tests of the reference and the families' vote (criterion)
    comparisons = {f: compare_with_reference(tr.history_curves(runs, f, ESTIMATORS),
                                             cfg.reference, steps, FAMILIES, alpha=cfg.alpha)
                   for f in FOOTINGS}
    summary = {f: c.pop("summary") for f, c in comparisons.items()}
    trend = {f: c.pop("trend") for f, c in comparisons.items()}[cfg.verdict_footing]
    main = comparisons[cfg.verdict_footing]
    claim = claim_verdict(
        "C8", main["verdict"], protocol="reconstructed", n_seeds=cfg.n_trials,
        criterion=family_vote_criterion(cfg.reference, cfg.methods, FAMILIES, n_trials=cfg.n_trials,
                                        alpha=cfg.alpha, on=f" on {cfg.verdict_footing}"),
        evidence={"per_opponent": main["per_opponent"],
                  "verdict_by_footing": {f: c["verdict"] for f, c in comparisons.items()},
                  "entropy_trend_last_two_checkpoints": trend, "steps": cfg.steps,
                  "loss_trend_last_two_checkpoints": tr.interval_loss_trends(runs, steps[-3:])},
        notes="trend: plateaued when the last two checkpoints differ by <= 2% (entropy means) "
              "or the mean loss of the last two checkpoint intervals by <= 2%")
    ingredients = {**asdict(cfg), **tr.entropy_monitor_ingredients(knn_k=cfg.knn_k),
                   "er_gaussian": f"sigma = {cfg.er_sigma} (decoder std and KDE width)",
                   "step_0": "the random initialisation each run starts from (eval mode)",
                   "test": "two-sided paired t (ttest_rel form), Holm per summary over methods x "
                           "estimators, direction from the mean difference"}
    return {"protocol": "reconstructed", "ingredients": ingredients, "steps": steps,
            "runs": runs, "summary": summary, "comparisons": comparisons, "claims": [claim]}


def plot(results: dict):
    footing = results["ingredients"]["verdict_footing"]
    return mean_se_panels(results["summary"][footing], results["steps"], ESTIMATORS,
                          xlabel="step", ylabel="entropy (nats)", marker="o", ms=3, capsize=2,
                          titles=[f"{e} ({footing})" for e in ESTIMATORS])


def main(argv=None):
    run_study("entropy_during_training", Config, run, plot, argv, quick=QUICK,
              presets={"paper_scale": PAPER}, description=__doc__,
              tables=lambda r: {"entropy_during_training": family_vote_table(
                  r["claims"][0]["evidence"]["per_opponent"])})


if __name__ == "__main__":
    main()
