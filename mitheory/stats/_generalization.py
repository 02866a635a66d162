"""Generalization bounds for a linear probe (softmax cross-entropy) on frozen features: the
VICReg SSL bound (Shwartz-Ziv et al. 2023, Thm. on downstream generalization; ``reconstructed``),
a norm-based Rademacher bound and a PAC-Bayes bound with a Gaussian posterior on the probe.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import (check_array, check_int, check_labels, check_positive,
                                check_same_length, check_samples)

_SQRT2 = math.sqrt(2.0)  # Lipschitz constant of softmax cross-entropy in the logits (L2):
# its gradient p - e_y has squared norm sum_j p_j^2 - 2 p_y + 1 < 2


@dataclass(frozen=True)
class LinearProbe:
    """A softmax linear classifier on standardised features: ``logits = W (h - mean)/scale + b``.

    Attributes
    ----------
    weight : ndarray, shape (n_classes, dim)
    bias : ndarray, shape (n_classes,)
    mean, scale : ndarray, shape (dim,)
        The standardisation fitted on the probe's training features.
    """

    weight: np.ndarray
    bias: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(self.weight.shape[0])

    def standardize(self, h: ArrayLike, name: str = "h") -> np.ndarray:
        """``(h - mean) / scale`` after checking ``h`` is finite with ``dim`` columns."""
        x = check_samples(h, name)
        if x.shape[1] != self.weight.shape[1]:
            raise ValueError(f"{name} must have {self.weight.shape[1]} columns (the probe's "
                             f"dim), got shape {x.shape}")
        return (x - self.mean) / self.scale

    def augmented(self) -> np.ndarray:
        """``[W, b]``, shape (n_classes, dim + 1): the weights acting on ``[h_std, 1]``."""
        return np.concatenate([self.weight, self.bias[:, None]], axis=1)

    def cross_entropy(self, h: ArrayLike, y: ArrayLike) -> float:
        """Mean softmax cross-entropy (nats) of the probe on ``(h, y)``."""
        x = self.standardize(h)
        labels = check_labels(y, "y", n=len(x), n_classes=self.n_classes)
        return float(np.mean(_cross_entropy(x @ self.weight.T + self.bias, labels)))


def _cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample ``logsumexp(s) - s_y`` over the last axis; ``logits`` (..., n, K), y (n,)."""
    idx = np.broadcast_to(y, logits.shape[:-1])[..., None]  # (..., n, 1)
    picked = np.take_along_axis(logits, idx, axis=-1)[..., 0]
    return logsumexp(logits, axis=-1) - picked


def fit_linear_probe(h: ArrayLike, y: ArrayLike, *, n_classes: int, c: float = 1.0,
                     max_iter: int = 2000) -> LinearProbe:
    """Fit a multinomial logistic-regression probe (L2, ``C = c``) on standardised features.

    Every class ``0 .. n_classes - 1`` must occur in ``y`` (the probe has a row per class). For
    two classes sklearn's binary weight ``w`` becomes the centred pair ``(-w/2, w/2)``: the same
    probabilities, the minimum-Frobenius-norm softmax parametrisation (as the multinomial fit).
    """
    x = check_samples(h, "h", min_samples=2)
    k = check_int(n_classes, "n_classes", minimum=2)
    labels = check_labels(y, "y", n=len(x), n_classes=k)
    missing = sorted(set(range(k)) - set(labels.tolist()))
    if missing:
        raise ValueError(f"y is missing class(es) {missing} of n_classes={k}: the probe needs "
                         "every class in its training set")
    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=check_positive(c, "c"),
                             max_iter=check_int(max_iter, "max_iter", minimum=1))
    clf.fit(scaler.transform(x), labels)
    w, b = clf.coef_, clf.intercept_
    if k == 2:
        w, b = np.concatenate([-w / 2, w / 2]), np.array([-b[0] / 2, b[0] / 2])
    return LinearProbe(weight=w.astype(np.float64), bias=b.astype(np.float64),
                       mean=scaler.mean_.astype(np.float64), scale=scaler.scale_.astype(np.float64))


@dataclass(frozen=True)
class GeneralizationBound:
    """An upper bound on the expected downstream loss (nats) and each of its additive terms.

    ``terms`` holds every term (``empirical_loss`` included); ``total`` is their sum;
    ``gap_bound = total - empirical_loss`` bounds the generalization gap (expected minus
    training loss). ``details`` logs every ingredient (n, m, delta, norms, radii, constants).
    """

    name: str
    total: float
    empirical_loss: float
    terms: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    reconstructed: bool = False
    kind: str = "upper_bound"
    unit: str = "nats"

    @property
    def gap_bound(self) -> float:
        return self.total - self.empirical_loss

    def __float__(self) -> float:
        return float(self.total)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "total": self.total, "gap_bound": self.gap_bound,
                "empirical_loss": self.empirical_loss, "terms": dict(self.terms),
                "details": dict(self.details), "reconstructed": self.reconstructed,
                "kind": self.kind, "unit": self.unit}


def _bound(name: str, terms: dict[str, float], details: dict, reconstructed: bool = False):
    terms = {k: float(v) for k, v in terms.items()}
    return GeneralizationBound(name=name, total=float(sum(terms.values())),
                               empirical_loss=terms["empirical_loss"], terms=terms,
                               details=details, reconstructed=reconstructed)


def _labelled(probe: Any, h: ArrayLike, y: ArrayLike, delta: float):
    """Checked standardised features ``[h_std, 1]`` (n, dim + 1), labels and delta."""
    if not isinstance(probe, LinearProbe):
        raise TypeError(f"probe must be a LinearProbe (see fit_linear_probe), got "
                        f"{type(probe).__name__}")
    x = probe.standardize(h, "h")
    labels = check_labels(y, "y", n=len(x), n_classes=probe.n_classes)
    d = check_positive(delta, "delta")
    if not d < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")
    return np.concatenate([x, np.ones((len(x), 1))], axis=1), labels, d


def _empirical(probe: LinearProbe, x1: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(_cross_entropy(x1 @ probe.augmented().T, y)))


def _loss_range(probe: LinearProbe, radius: float) -> float:
    """``M = ln K + 2 max_k ||[w_k, b_k]|| R``: CE <= ln K + max_j (s_j - s_y) on ``||[h,1]|| <= R``
    (Cauchy-Schwarz on each logit)."""
    return math.log(probe.n_classes) + 2.0 * float(np.max(np.linalg.norm(probe.augmented(),
                                                                          axis=1))) * radius


def _head_rademacher(frobenius: float, rms_radius: float, n_classes: int, n: int) -> float:
    """Empirical Rademacher complexity of ``{(h, y) -> CE(W [h, 1], y) : ||W||_F <= B}`` on n
    samples of RMS norm ``rho``: ``2 B rho sqrt(K / n)`` (vector contraction, Maurer 2016, with
    the sqrt(2) Lipschitz constant; then Jensen on ``E ||sum_ik eps_ik e_k h_i^T||_F``)."""
    return _SQRT2 * _SQRT2 * frobenius * rms_radius * math.sqrt(n_classes / n)


def generalization_bound_rademacher(probe: LinearProbe, h: ArrayLike, y: ArrayLike, *,
                                    delta: float = 0.05) -> GeneralizationBound:
    r"""Norm-based Rademacher bound on the probe's expected cross-entropy (supervised, n samples).

    .. math:: \mathbb{E}\,\ell \le \hat L_n + 2\hat{\mathfrak R}_n + 3M\sqrt{\ln(2/\delta)/(2n)},
              \qquad \hat{\mathfrak R}_n \le 2 B \rho \sqrt{K/n}

    (Mohri et al. 2018, Thm. 3.3, with the empirical Rademacher complexity; Bartlett & Mendelson
    2002). ``B = ||[W, b]||_F``, ``rho`` the RMS norm of ``[h_std, 1]`` over the n labelled
    samples, ``M`` the loss range (:func:`_loss_range`, with ``R`` their largest norm).

    Notes
    -----
    ``B`` and ``R`` are read off the trained probe and its data (plug-ins): the union bound over
    a grid of norms that would make the bound hold for a data-chosen ``B`` (adding
    O(sqrt(ln ln B / n))) is omitted.

    Returns
    -------
    GeneralizationBound
        Terms ``empirical_loss``, ``complexity`` (``2 R_n``), ``concentration``.
    """
    x1, labels, d = _labelled(probe, h, y, delta)
    n, k = len(x1), probe.n_classes
    norms = np.linalg.norm(x1, axis=1)
    b_frob = float(np.linalg.norm(probe.augmented()))
    rho, radius = float(np.sqrt(np.mean(norms**2))), float(norms.max())
    m_range = _loss_range(probe, radius)
    terms = {"empirical_loss": _empirical(probe, x1, labels),
             "complexity": 2.0 * _head_rademacher(b_frob, rho, k, n),
             "concentration": 3.0 * m_range * math.sqrt(math.log(2.0 / d) / (2.0 * n))}
    return _bound("rademacher", terms, {"n": n, "n_classes": k, "delta": d, "weight_norm": b_frob,
                                        "rms_radius": rho, "max_radius": radius,
                                        "loss_range": m_range})


def generalization_bound_ssl(probe: LinearProbe, h: ArrayLike, y: ArrayLike, h_view_a: ArrayLike,
                             h_view_b: ArrayLike, *, delta: float = 0.05) -> GeneralizationBound:
    r"""The VICReg SSL generalization bound (``reconstructed``): n labelled, m unlabelled pairs.

    .. math::
        \mathbb{E}\,\ell \le \underbrace{\hat L_n}_{\text{(i)}}
        + \underbrace{L_h \tfrac1m \textstyle\sum_i \|\hat h(x_i') - \hat h(x_i'')\|}_{\text{(ii)}}
        + \underbrace{4 B \rho_m \sqrt{K/m}}_{\text{(iii)}}
        + \underbrace{M\left(\sqrt{\tfrac{\ln(2/\delta)}{2m}}
                           + \sqrt{\tfrac{\ln(2/\delta)}{2n}}\right)}_{\text{(iv)}}

    (i) the probe's training cross-entropy on the n labelled samples; (ii) the invariance term:
    VICReg's invariance distance over m unlabelled view pairs (standardised features), times the
    loss's Lipschitz constant in the feature, ``L_h = sqrt(2) ||W||_2``; (iii) the complexity
    term over the m unlabelled samples: twice the head-composed Rademacher complexity
    (:func:`generalization_bound_rademacher`'s) with ``rho_m`` the RMS norm of ``[h_std, 1]``
    over the view-a features; (iv) concentration on m and on n, ``delta/2`` each, with ``M``
    the loss range over every labelled and unlabelled feature.

    Notes
    -----
    ``reconstructed``: the paper's formula was not available (papers/vicreg_infotheory.md §3,
    reference/imagescale_facts.md §A.2). This follows the recalled shape — empirical term,
    invariance term, complexity over the m unlabelled samples, concentration in m and n — with
    the encoder class's complexity R_m(F) replaced by the computable head-composed Rademacher
    term on the unlabelled features. Every term is returned separately so the paper's form can
    replace any of them. As recalled, the choice of the head on the n labelled samples is
    charged through (iv) only, so this is not a proven bound in this form.

    Parameters
    ----------
    probe : LinearProbe
    h, y : array_like, shapes (n, dim), (n,)
        Labelled features (raw; the probe standardises them) and their classes.
    h_view_a, h_view_b : array_like, shape (m, dim)
        Features of the two views of m unlabelled images.
    delta : float
        Failure probability, in (0, 1).

    Returns
    -------
    GeneralizationBound
        Terms ``empirical_loss``, ``invariance``, ``complexity``, ``concentration``;
        ``reconstructed=True``.
    """
    x1, labels, d = _labelled(probe, h, y, delta)
    za, zb = probe.standardize(h_view_a, "h_view_a"), probe.standardize(h_view_b, "h_view_b")
    check_same_length(za, zb, "h_view_a", "h_view_b")
    n, m, k = len(x1), len(za), probe.n_classes
    dist = float(np.mean(np.linalg.norm(za - zb, axis=1)))
    lip = _SQRT2 * float(np.linalg.norm(probe.weight, ord=2))
    b_frob = float(np.linalg.norm(probe.augmented()))
    sq_a = np.sum(za**2, axis=1) + 1.0  # ||[h_std, 1]||^2 of the unlabelled view-a features
    rho_m = float(np.sqrt(np.mean(sq_a)))
    radius = float(np.sqrt(max(np.max(np.sum(x1**2, axis=1)), np.max(sq_a),
                               np.max(np.sum(zb**2, axis=1)) + 1.0)))
    m_range = _loss_range(probe, radius)
    log_term = math.log(2.0 / d)
    terms = {"empirical_loss": _empirical(probe, x1, labels), "invariance": lip * dist,
             "complexity": 2.0 * _head_rademacher(b_frob, rho_m, k, m),
             "concentration": m_range * (math.sqrt(log_term / (2.0 * m))
                                         + math.sqrt(log_term / (2.0 * n)))}
    return _bound("ssl_vicreg", terms, {
        "n": n, "m": m, "n_classes": k, "delta": d, "invariance_distance": dist,
        "feature_lipschitz": lip, "weight_norm": b_frob, "rms_radius_unlabelled": rho_m,
        "max_radius": radius, "loss_range": m_range}, reconstructed=True)


DEFAULT_SIGMAS: tuple[float, ...] = tuple(float(s) for s in np.geomspace(1e-3, 1.0, 13))


def generalization_bound_pac_bayes(probe: LinearProbe, h: ArrayLike, y: ArrayLike, *,
                                   delta: float = 0.05, sigmas: ArrayLike = DEFAULT_SIGMAS,
                                   n_mc: int = 32, seed: Seed = 0) -> GeneralizationBound:
    r"""PAC-Bayes bound (McAllester 1999, Maurer 2004) with a Gaussian posterior on the probe.

    Posterior ``Q = N([W, b], sigma^2 I)``, prior ``P = N(0, sigma^2 I)`` over the
    ``K (dim + 1)`` head parameters, ``sigma`` chosen from the fixed grid ``sigmas`` (union
    bound over its ``J`` values). With the loss truncated at the probe's range ``M``:

    .. math::
        \mathbb{E}_Q \ell_M \le \hat L_n
        + \underbrace{(\hat L^{mc}_Q - \hat L_n)}_{\text{perturbation}}
        + \underbrace{M\sqrt{\tfrac{\ln(2J/\delta)}{2 n_{mc}}}}_{\text{Monte Carlo}}
        + \underbrace{M\sqrt{\tfrac{KL + \ln(4J\sqrt n/\delta)}{2n}}}_{\text{KL}},
        \qquad KL = \frac{\|[W, b]\|_F^2}{2\sigma^2}

    The Monte Carlo term is Hoeffding's over ``n_mc`` posterior draws (Dziugaite & Roy 2017),
    ``delta/2`` for it and ``delta/2`` for the PAC-Bayes inequality.

    Notes
    -----
    A bound on the Gibbs classifier's truncated loss ``min(CE, M)``, the usual PAC-Bayes
    object; the deterministic probe's own loss never exceeds ``M`` on features of norm
    <= ``R``. ``M`` (hence the truncation) is read off the probe: a plug-in, as in
    :func:`generalization_bound_rademacher`. The same posterior draws (common random numbers)
    are scaled by each ``sigma``.

    Returns
    -------
    GeneralizationBound
        Terms ``empirical_loss``, ``perturbation``, ``monte_carlo``, ``kl``; details hold the
        chosen ``sigma`` and the total at every ``sigma`` of the grid.
    """
    x1, labels, d = _labelled(probe, h, y, delta)
    grid = check_array(sigmas, "sigmas", ndim=1)
    if grid.size == 0 or np.any(grid <= 0):
        raise ValueError(f"sigmas must be a non-empty array of positive numbers, got {sigmas!r}")
    n_draws = check_int(n_mc, "n_mc", minimum=1)
    n, j = len(x1), len(grid)
    w1 = probe.augmented()  # (K, dim + 1)
    m_range = _loss_range(probe, float(np.linalg.norm(x1, axis=1).max()))
    emp = _empirical(probe, x1, labels)
    noise = as_generator(seed).standard_normal((n_draws,) + w1.shape)  # (n_mc, K, dim + 1)
    base = x1 @ w1.T  # (n, K)
    sq_norm = float(np.sum(w1**2))
    mc = m_range * math.sqrt(math.log(2.0 * j / d) / (2.0 * n_draws))
    per_sigma = []
    for s in grid:
        logits = base[None] + s * np.einsum("nd,mkd->mnk", x1, noise)  # (n_mc, n, K)
        gibbs = float(np.mean(np.minimum(_cross_entropy(logits, labels), m_range)))
        kl = sq_norm / (2.0 * s**2)
        kl_term = m_range * math.sqrt((kl + math.log(4.0 * j * math.sqrt(n) / d)) / (2.0 * n))
        per_sigma.append({"sigma": float(s), "gibbs_loss": gibbs, "kl_divergence": kl,
                          "kl_term": kl_term, "total": gibbs + mc + kl_term})
    best = min(per_sigma, key=lambda r: r["total"])
    terms = {"empirical_loss": emp, "perturbation": best["gibbs_loss"] - emp,
             "monte_carlo": mc, "kl": best["kl_term"]}
    return _bound("pac_bayes", terms, {
        "n": n, "n_classes": probe.n_classes, "delta": d, "sigma": best["sigma"],
        "kl_divergence": best["kl_divergence"], "n_mc": n_draws, "n_sigmas": j,
        "weight_norm": math.sqrt(sq_norm), "loss_range": m_range, "per_sigma": per_sigma})
