"""Distance from an input to the boundary of its activation region, and region-exit probabilities.

The activation region of ``x`` is the convex polytope ``P = {x' : s_u g_u(x') >= 0 for all u}``,
where ``g_u(x') = a_u^T x' + c_u`` is the region's affine pre-activation of unit ``u`` (all layers;
for max pooling, ``g = h_win - h_j`` for each other entry ``j`` of a window) and ``s_u`` its sign
at ``x``. Gaussian noise that stays in ``P`` is mapped exactly affinely (Theorem 1 of
Shwartz-Ziv et al. 2023, dossier vicreg_infotheory.md Sec. 2.2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import check_array, check_covariance, check_int, check_probability
from mitheory.cpa._regions import batch_code, chunks, max_kink_width
from mitheory.cpa._trace import CPANetwork, prepare


def noise_factor(noise_cov: Any, dim: int) -> np.ndarray:
    """A factor ``L`` (dim, dim) with ``L L^T = S`` for a noise covariance ``S``.

    ``noise_cov`` is a scalar variance (``S = s I``), a vector of variances (diagonal ``S``), or
    a full symmetric positive-definite (dim, dim) matrix.
    """
    s = check_array(noise_cov, "noise_cov", ndim=(0, 1, 2))
    if s.ndim == 0:
        return np.sqrt(np.eye(dim) * _positive(s, "noise_cov"))
    if s.ndim == 1:
        if s.shape != (dim,):
            raise ValueError(f"noise_cov as variances must have shape ({dim},), got {s.shape}")
        return np.diag(np.sqrt(_positive(s, "noise_cov")))
    return np.linalg.cholesky(check_covariance(s, "noise_cov", dim=dim))


def _positive(v: np.ndarray, name: str) -> np.ndarray:
    if np.any(v <= 0):
        raise ValueError(f"{name} variances must be > 0, got min {np.min(v)!r}")
    return v


@dataclass(frozen=True)
class BoundaryDistance:
    """Euclidean distance from each input to the boundary of its activation region.

    Attributes
    ----------
    distance : ndarray (n,)
        Exact distance (``inf`` when no constraint depends on the input).
    direction : ndarray (n, dim_in)
        Unit vector along the normal of the nearest constraint, pointing out of the region:
        ``x + t * direction`` leaves the region for ``t`` slightly above ``distance``.
    layer : ndarray (n,) of str
        Name of the layer holding the nearest constraint.
    unit : ndarray (n,) int
        Index of that constraint within its layer's flattened constraints.
    """

    distance: np.ndarray
    direction: np.ndarray
    layer: np.ndarray
    unit: np.ndarray


class _NearestHook:
    def __init__(self, bsz: int, k: int, dev) -> None:
        self.dist = torch.full((bsz,), float("inf"), dtype=torch.float64, device=dev)
        self.dir = torch.zeros(bsz, k, dtype=torch.float64, device=dev)
        self.layer = torch.full((bsz,), -1, dtype=torch.long, device=dev)
        self.unit = torch.full((bsz,), -1, dtype=torch.long, device=dev)
        self.names: list[str] = []

    def __call__(self, op, g, normals, code) -> None:
        nrm = normals.norm(dim=1)  # (B, m): ||a_u||
        dist = torch.where(nrm > 0, g.abs() / nrm, torch.inf)
        d_min, j = dist.min(dim=1)
        better = d_min < self.dist
        a = normals.gather(2, j.view(-1, 1, 1).expand(-1, normals.shape[1], 1))[..., 0]
        sgn = torch.sign(g.gather(1, j[:, None]))  # (B, 1)
        out = -sgn * a / nrm.gather(1, j[:, None]).clamp_min(1e-300)  # guard 0 when dist = inf
        self.dist = torch.where(better, d_min, self.dist)
        self.dir = torch.where(better[:, None], out, self.dir)
        self.layer = torch.where(better, len(self.names), self.layer)
        self.unit = torch.where(better, j, self.unit)
        self.names.append(op.name)


def boundary_distance(net: nn.Module | CPANetwork, x: Any, *, chunk_size: int | None = None,
                      device: str | torch.device | None = None) -> BoundaryDistance:
    """Exact Euclidean distance from each input to the boundary of its activation region.

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
    x : array or tensor, shape (n, *in_shape)
    chunk_size : int, optional
    device : str or torch.device, optional

    Returns
    -------
    BoundaryDistance
        Distance, outward unit normal of the nearest constraint, its layer and unit index.

    Notes
    -----
    .. math:: \\operatorname{dist}(x, \\partial P) = \\min_u \\frac{|a_u^\\top x + c_u|}
              {\\lVert a_u \\rVert_2}

    over all units of all layers (and all max-pool window pairs), with :math:`a_u, c_u` the
    region's affine pre-activation. This is exact, not only a lower bound: by induction over
    layers, :math:`x' \\in P` iff every pre-activation of ``x'`` has the sign it has at ``x``,
    so the complement of ``P`` is the union of the open half-spaces
    :math:`\\{s_u g_u < 0\\}`, and the distance to a union is the minimum of the distances.
    A redundant constraint's half-space lies inside the complement, so it can never be
    strictly nearer than the true boundary. Constraints with :math:`a_u = 0` (dead units,
    ties between identical affine pieces) cut nothing and are skipped. Points with
    :math:`g_u(x) = 0` are on the boundary (distance 0).

    Examples
    --------
    >>> from mitheory.cpa import cpa_mlp
    >>> bd = boundary_distance(cpa_mlp([2, 8, 1], seed=0), np.zeros((1, 2)))
    >>> bd.distance.shape
    (1,)
    """
    cnet, xt = prepare(net, x, "x", device)
    dev = cnet.device
    d = int(np.prod(xt.shape[1:]))
    width = max_kink_width(cnet, xt)
    eye = torch.eye(d, dtype=torch.float64, device=dev)
    dist, direc, layer, unit, names = [], [], [], [], []
    with torch.no_grad():
        for sl in chunks(len(xt), chunk_size, per_item_bytes=8 * d * width * 4):
            hook = _NearestHook(sl.stop - sl.start, d, dev)
            cnet.propagate(xt[sl], basis=eye, hook=hook)
            names = hook.names
            dist.append(hook.dist.cpu())
            direc.append(hook.dir.cpu())
            layer.append(hook.layer.cpu())
            unit.append(hook.unit.cpu())
    lay = torch.cat(layer).numpy()
    lookup = np.array([*names, ""], dtype=object)
    return BoundaryDistance(distance=torch.cat(dist).numpy(), direction=torch.cat(direc).numpy(),
                            layer=lookup[lay], unit=torch.cat(unit).numpy())


@dataclass(frozen=True)
class ExitProbability:
    """Bounds on ``P(x + eps leaves the activation region of x)``, ``eps ~ N(0, S)``.

    Attributes
    ----------
    union_bound : ndarray (n,)
        Upper bound ``sum_u p_u`` (not clipped; above 1 it is vacuous).
    max_term : ndarray (n,)
        Lower bound ``max_u p_u``.
    n_constraints : int
        Number of constraints (units and max-pool pairs) summed over.
    per_layer : dict of str to ndarray (n,)
        ``sum_u p_u`` over the constraints of each kink layer (which layer the noise leaves by).
    """

    union_bound: np.ndarray
    max_term: np.ndarray
    n_constraints: int
    per_layer: dict[str, np.ndarray]


class _ExitHook:
    def __init__(self, bsz: int, dev) -> None:
        self.total = torch.zeros(bsz, dtype=torch.float64, device=dev)
        self.max = torch.zeros(bsz, dtype=torch.float64, device=dev)
        self.count = 0
        self.layers: dict[str, torch.Tensor] = {}

    def __call__(self, op, g, normals, code) -> None:
        sd = normals.norm(dim=1)  # (B, m): sqrt(a_u^T S a_u)
        # exp(log_ndtr): torch.special.ndtr loses ~1e-7 relative accuracy in the far tail
        p = torch.where(sd > 0, torch.special.log_ndtr(-g.abs() / sd).exp(), 0.0)
        self.layers[op.name] = p.sum(dim=1)
        self.total += self.layers[op.name]
        self.max = torch.maximum(self.max, p.max(dim=1).values)
        self.count += g.shape[1]


def exit_probability_bounds(net: nn.Module | CPANetwork, x: Any, noise_cov: Any, *,
                            chunk_size: int | None = None,
                            device: str | torch.device | None = None) -> ExitProbability:
    """Exact per-constraint crossing probabilities and the union bound on leaving the region.

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
    x : array or tensor, shape (n, *in_shape)
        Centres (prototypes) of the noise.
    noise_cov : float, array (dim_in,) or array (dim_in, dim_in)
        Noise covariance ``S``: isotropic variance, diagonal variances, or full SPD matrix.
    chunk_size : int, optional
    device : str or torch.device, optional

    Returns
    -------
    ExitProbability
        ``max_term <= P(exit) <= union_bound`` (both exact bounds, no approximation).

    Notes
    -----
    For each constraint :math:`g_u(x') = a_u^\\top x' + c_u` of the region of :math:`x`,

    .. math:: p_u = P(s_u g_u(x + \\varepsilon) < 0) = \\Phi\\Big(-\\frac{|g_u(x)|}
              {\\sqrt{a_u^\\top S a_u}}\\Big),

    exact because :math:`a_u^\\top \\varepsilon \\sim N(0, a_u^\\top S a_u)`. Leaving the region is
    the union of these events (see ``boundary_distance``), hence
    :math:`\\max_u p_u \\le P(\\text{exit}) \\le \\sum_u p_u`. The gradients are propagated along
    the columns of the Cholesky factor of ``S``, so :math:`a_u^\\top S a_u` costs no extra pass.
    """
    cnet, xt = prepare(net, x, "x", device)
    dev = cnet.device
    d = int(np.prod(xt.shape[1:]))
    basis = torch.as_tensor(noise_factor(noise_cov, d).T.copy(), device=dev)  # rows: columns of L
    width = max_kink_width(cnet, xt)
    hooks = []
    with torch.no_grad():
        for sl in chunks(len(xt), chunk_size, per_item_bytes=8 * d * width * 4):
            hooks.append(_ExitHook(sl.stop - sl.start, dev))
            cnet.propagate(xt[sl], basis=basis, hook=hooks[-1])

    def cat(get) -> np.ndarray:
        return torch.cat([get(h).cpu() for h in hooks]).numpy()

    return ExitProbability(union_bound=cat(lambda h: h.total), max_term=cat(lambda h: h.max),
                           n_constraints=hooks[0].count,
                           per_layer={k: cat(lambda h, k=k: h.layers[k])
                                      for k in hooks[0].layers})


@dataclass(frozen=True)
class ExitProbabilityMC:
    """Monte Carlo estimate of the region-exit probability with a Clopper-Pearson interval.

    Attributes
    ----------
    estimate, ci_low, ci_high : ndarray (n,)
    n_samples : int
        Noise draws per input.
    confidence : float
    """

    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_samples: int
    confidence: float


def exit_probability_mc(net: nn.Module | CPANetwork, x: Any, noise_cov: Any, *,
                        n_samples: int = 10_000, confidence: float = 0.95,
                        chunk_size: int | None = None, device: str | torch.device | None = None,
                        seed: Seed = None) -> ExitProbabilityMC:
    """Monte Carlo estimate of ``P(region code of x + eps != region code of x)``.

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
    x : array or tensor, shape (n, *in_shape)
    noise_cov : float, array (dim_in,) or array (dim_in, dim_in)
        See ``exit_probability_bounds``.
    n_samples : int
        Noise draws per input.
    confidence : float
        Level of the exact (Clopper-Pearson) binomial interval.
    chunk_size : int, optional
        Noisy points per forward pass.
    device : str or torch.device, optional
    seed : int, Generator or None

    Returns
    -------
    ExitProbabilityMC
        An unbiased estimate; the check for ``exit_probability_bounds``.
    """
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    check_probability(confidence, "confidence")
    cnet, xt = prepare(net, x, "x", device)
    dev = cnet.device
    d = int(np.prod(xt.shape[1:]))
    lt = noise_factor(noise_cov, d).T  # eps = z @ L^T
    rng = as_generator(seed)
    width = max_kink_width(cnet, xt)
    counts = np.zeros(len(xt), dtype=np.int64)
    with torch.no_grad():
        for i in range(len(xt)):  # one batched pass per prototype (over its noise draws)
            ref = batch_code(cnet, xt[i:i + 1])
            eps = torch.as_tensor(rng.standard_normal((n_samples, d)) @ lt, device=dev)
            pts = xt[i:i + 1] + eps.reshape(n_samples, *xt.shape[1:])
            for sl in chunks(n_samples, chunk_size, per_item_bytes=8 * width * 4):
                counts[i] += int((batch_code(cnet, pts[sl]) != ref).any(dim=1).sum())
    alpha = 1.0 - confidence
    lo = np.where(counts > 0, stats.beta.ppf(alpha / 2, counts, n_samples - counts + 1), 0.0)
    hi = np.where(counts < n_samples,
                  stats.beta.ppf(1 - alpha / 2, counts + 1, n_samples - counts), 1.0)
    return ExitProbabilityMC(estimate=counts / n_samples, ci_low=lo, ci_high=hi,
                             n_samples=n_samples, confidence=confidence)

