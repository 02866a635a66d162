r"""k-nearest-neighbour estimators: Kozachenko-Leonenko entropy and KSG mutual information.

Kraskov, Stoegbauer & Grassberger (2004), Eq. (20) (entropy), Eqs. (8) and (9) (KSG estimators 1
and 2). KD-tree neighbour search (``scipy.spatial.cKDTree``, all cores) and exact sorted counting
for 1-D marginals, O(n log n); an optional brute-force torch path (``device=``) for GPUs.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from mitheory._rng import as_generator
from mitheory._types import InfoValue, Seed, Unit
from mitheory._validate import (check_device, check_int, check_nonconstant, check_option,
                                check_positive, check_same_length, check_samples)
from mitheory.info._common import check_unit, info_value

Metric = Literal["chebyshev", "euclidean"]
KSGMethod = Literal["ksg1", "ksg2"]
_ROW_BLOCK = 1 << 21  # gathered float64 elements per block of rows (16 MiB)
_REL_TIE = 1e-12  # Euclidean distances (d > 1) within this relative gap of a radius are ties


# ---- input handling -----------------------------------------------------------------------------
def _prepare(x: ArrayLike, name: str, k: int, standardize: bool, jitter: float | None,
             rng: np.random.Generator | None) -> np.ndarray:
    """Finite (n, d) float64, >= k + 1 rows, no constant column; standardised; jittered."""
    arr = check_samples(x, name, min_samples=k + 1)
    check_nonconstant(arr, name)
    if standardize:
        arr = (arr - arr.mean(axis=0)) / arr.std(axis=0)
    if jitter is not None:
        arr = arr + jitter * arr.std(axis=0) * rng.standard_normal(arr.shape)
    return np.ascontiguousarray(arr)


def _duplicate_error(n_zero: int, names: str, k: int) -> ValueError:
    return ValueError(
        f"{names}: {n_zero} point(s) have k={k} or more exact duplicates (k-NN distance 0), where "
        "the kNN density estimate is undefined; remove duplicates, pass jitter= (seeded small "
        "noise, off by default), or use a discrete estimator"
    )


# ---- distances and counts -----------------------------------------------------------------------
def _marginal_dist(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distances between rows of a (..., d) and b (..., d) under the marginal norm."""
    diff = np.abs(a - b)
    if metric == "chebyshev" or a.shape[-1] == 1:
        return diff.max(axis=-1)
    return np.sqrt(np.sum(diff * diff, axis=-1))


def _walk(s: np.ndarray, end: np.ndarray, offset: int, cond, side: str, v: np.ndarray,
          r: np.ndarray) -> None:
    """Move ``end`` (in place) across whole blocks of equal values while ``cond`` holds at
    ``s[end + offset]`` (``cond`` is evaluated on ``|fl(s_j - v_i)|`` and ``r_i``)."""
    n = s.size
    at = end + offset
    act = np.flatnonzero((at >= 0) & (at < n))
    act = act[cond(np.abs(s[at[act]] - v[act]), r[act])]
    while act.size:
        end[act] = np.searchsorted(s, s[end[act] + offset], side=side)
        at = end[act] + offset
        inside = (at >= 0) & (at < n)
        act, at = act[inside], at[inside]
        act = act[cond(np.abs(s[at] - v[act]), r[act])]


def _count_sorted_1d(v: np.ndarray, r: np.ndarray, strict: bool) -> np.ndarray:
    r"""Exact :math:`\#\{j \ne i: |v_j - v_i| < r_i\}` (``strict``) or :math:`\le r_i`, 1-D.

    Binary search on the sorted values for ``v_i +- r_i``, then a fix-up that evaluates the
    predicate as ``|fl(v_j - v_i)|`` (as the O(n^2) reference does) and moves across whole blocks
    of equal values, so neither the rounding of ``v_i +- r_i`` nor ties change a count.
    """
    order = np.argsort(v)
    s = v[order]
    v, r = s, r[order]  # query in sorted order: the binary searches stay cache-friendly
    holds = (lambda d, rr: d < rr) if strict else (lambda d, rr: d <= rr)
    fails = lambda d, rr: ~holds(d, rr)  # noqa: E731
    hi = np.searchsorted(s, v + r, side="left" if strict else "right")
    lo = np.searchsorted(s, v - r, side="right" if strict else "left")
    _walk(s, hi, -1, fails, "left", v, r)  # hi = first index right of v_i where it fails
    _walk(s, hi, 0, holds, "right", v, r)
    _walk(s, lo, 0, fails, "right", v, r)  # lo = first index where it holds
    _walk(s, lo, -1, holds, "left", v, r)
    counts = np.empty_like(hi)
    counts[order] = hi - lo - 1  # minus the point itself
    return counts


def _count_within(a: np.ndarray, radius: np.ndarray, metric: str, strict: bool) -> np.ndarray:
    """Neighbour counts within ``radius`` in one marginal (excluding the point itself)."""
    if a.shape[1] == 1:
        return _count_sorted_1d(a[:, 0], radius, strict)
    if metric == "chebyshev":  # distances are exact maxima of |differences|
        r = np.nextafter(radius, 0.0) if strict else radius
        p = np.inf
    else:  # squared-sum rounding in the tree vs ours: treat near-radius distances as ties
        r = radius * (1.0 - _REL_TIE) if strict else radius * (1.0 + _REL_TIE)
        p = 2.0
    counts = cKDTree(a).query_ball_point(a, r, p=p, return_length=True, workers=-1)
    return np.asarray(counts) - 1


def _joint_neighbourhood(x: np.ndarray, y: np.ndarray, k: int, metric: str, marginal: bool):
    """For each point: ``eps`` = distance to its k-th neighbour in the joint max-norm
    ``max(|dx|, |dy|)`` and, if ``marginal``, ``eps_x``/``eps_y`` = largest marginal distances
    over all points at joint distance <= eps (ties at eps included).

    Candidates come from a KD-tree on ``z = (x, y)``: Chebyshev tree distances equal the joint
    distance; for Euclidean marginals the tree uses the joint 2-norm, which bounds the joint
    max-norm within a factor sqrt(2), so candidate sets grow until they provably hold every point
    with joint distance <= eps.
    """
    z = np.hstack([x, y])
    n = z.shape[0]
    tree = cKDTree(z, balanced_tree=False)
    p, shrink = (np.inf, 1.0) if metric == "chebyshev" else (2.0, math.sqrt(2.0))
    order = tree.indices  # query in leaf order: better cache locality, same results
    if metric == "chebyshev" and not marginal:
        dist, _ = tree.query(z[order], k=k + 1, p=np.inf, workers=-1)
        eps = np.empty(n)
        eps[order] = dist[:, k]
        return eps, None, None
    eps, ex, ey = np.empty(n), np.empty(n), np.empty(n)
    rows, kk = order, min(n, 2 * k + 2)
    while rows.size:
        dist, idx = tree.query(z[rows], k=kk, p=p, workers=-1)  # (r, kk)
        step = max(1, _ROW_BLOCK // (kk * z.shape[1]))
        bad = []
        for s0 in range(0, rows.size, step):
            rr, ii = rows[s0:s0 + step], idx[s0:s0 + step]
            dx = _marginal_dist(x[rr][:, None, :], x[ii], metric)  # (b, kk)
            dy = _marginal_dist(y[rr][:, None, :], y[ii], metric)
            dj = np.maximum(dx, dy)
            e = np.partition(dj, k, axis=1)[:, k]  # self (0) is in the set: k-th other point
            ok = (dist[s0:s0 + step, -1] / shrink > e) | (kk == n)
            inn = dj <= e[:, None]
            eps[rr[ok]] = e[ok]
            ex[rr[ok]] = np.where(inn, dx, 0.0).max(axis=1)[ok]
            ey[rr[ok]] = np.where(inn, dy, 0.0).max(axis=1)[ok]
            bad.append(rr[~ok])
        rows, kk = np.concatenate(bad), min(n, 2 * kk)
    return eps, ex, ey


def _ksg_counts(x: np.ndarray, y: np.ndarray, k: int, method: str, metric: str):
    """Per-point (n_x, n_y) of KSG estimator 1 or 2, and the joint radii (CPU, KD-tree)."""
    eps, ex, ey = _joint_neighbourhood(x, y, k, metric, marginal=method == "ksg2")
    strict = method == "ksg1"
    rx, ry = (eps, eps) if strict else (ex, ey)
    with ThreadPoolExecutor(max_workers=2) as pool:  # numpy sorts/searches release the GIL
        fx = pool.submit(_count_within, x, rx, metric, strict)
        ny = _count_within(y, ry, metric, strict)
        return fx.result(), ny, eps


def _ksg_counts_torch(x: np.ndarray, y: np.ndarray, k: int, method: str, metric: str,
                      device: str):
    """Brute-force twin of ``_ksg_counts`` in torch (float64), blocks of query rows; O(n^2)."""
    import torch

    tx = torch.as_tensor(x, dtype=torch.float64, device=device)
    ty = torch.as_tensor(y, dtype=torch.float64, device=device)
    n = tx.shape[0]
    step = max(1, _ROW_BLOCK // (n * max(tx.shape[1], ty.shape[1])))
    nx = torch.empty(n, dtype=torch.int64, device=device)
    ny = torch.empty(n, dtype=torch.int64, device=device)
    eps_all = torch.empty(n, dtype=torch.float64, device=device)

    def dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # (r, d), (n, d) -> (r, n)
        diff = (a[:, None, :] - b[None, :, :]).abs()
        if metric == "chebyshev" or a.shape[1] == 1:
            return diff.amax(dim=-1)
        return diff.square().sum(dim=-1).sqrt()

    for s0 in range(0, n, step):
        dx, dy = dist(tx[s0:s0 + step], tx), dist(ty[s0:s0 + step], ty)
        dj = torch.maximum(dx, dy)
        eps = torch.kthvalue(dj, k + 1, dim=1).values  # includes self at distance 0
        eps_all[s0:s0 + step] = eps
        if method == "ksg1":
            nx[s0:s0 + step] = (dx < eps[:, None]).sum(1) - 1
            ny[s0:s0 + step] = (dy < eps[:, None]).sum(1) - 1
        else:
            inn = dj <= eps[:, None]
            ex = torch.where(inn, dx, torch.zeros_like(dx)).amax(1)
            ey = torch.where(inn, dy, torch.zeros_like(dy)).amax(1)
            nx[s0:s0 + step] = (dx <= ex[:, None]).sum(1) - 1
            ny[s0:s0 + step] = (dy <= ey[:, None]).sum(1) - 1
    return nx.cpu().numpy(), ny.cpu().numpy(), eps_all.cpu().numpy()


def _ksg_value(nx: np.ndarray, ny: np.ndarray, n: int, k: int, method: str) -> float:
    if method == "ksg1":  # Kraskov et al. (2004), Eq. (8)
        return float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1)))
    return float(digamma(k) - 1.0 / k + digamma(n) - np.mean(digamma(nx) + digamma(ny)))  # (9)


# ---- public API ---------------------------------------------------------------------------------
def mi_ksg(
    x: ArrayLike,
    y: ArrayLike,
    *,
    k: int = 3,
    method: KSGMethod = "ksg1",
    metric: Metric = "chebyshev",
    standardize: bool = True,
    jitter: float | None = None,
    clip_negative: bool = False,
    device: str | None = None,
    unit: Unit = "nats",
    seed: Seed = None,
) -> InfoValue:
    r"""Kraskov-Stoegbauer-Grassberger (KSG) estimate of the mutual information :math:`I(X;Y)`.

    Parameters
    ----------
    x : array_like, shape (n_samples, dim_x) or (n_samples,)
    y : array_like, shape (n_samples, dim_y) or (n_samples,)
    k : int
        Number of neighbours (Kraskov et al. recommend 2-4; ``n_samples >= k + 1``).
    method : {"ksg1", "ksg2"}
        KSG estimator 1 (Eq. 8) or 2 (Eq. 9).
    metric : {"chebyshev", "euclidean"}
        Norm inside each marginal space; the joint space always uses
        :math:`\max(\|dx\|, \|dy\|)`, as the KSG derivation requires. For 1-D ``x`` and ``y``
        both give the same estimate.
    standardize : bool
        Centre and scale every column to unit variance first (default). KSG is not invariant to
        rescaling one variable (NPEET #19); standardising makes it so.
    jitter : float, optional
        Off by default. If given, add Gaussian noise of standard deviation ``jitter`` x (column
        standard deviation), drawn from ``seed``, to break exact ties (sklearn adds 1e-10
        relative noise unconditionally; here it is explicit).
    clip_negative : bool
        Return ``max(0, estimate)`` (the raw value stays in ``details["raw_value"]``). Off by
        default: negative estimates are informative about bias and are not hidden.
    device : str, optional
        ``None`` (default): KD-tree on the CPU. A torch device (``"cuda"``, ``"cpu"``) runs an
        exact brute-force O(n^2) torch twin in float64 blocks.
    unit : {"nats", "bits"}
    seed : int, Generator or None
        Used only for ``jitter``.

    Returns
    -------
    InfoValue
        **Estimate** (``kind="estimate"``, ``method="ksg1"|"ksg2"``) of :math:`I(X;Y)`;
        consistent as :math:`n\to\infty`, biased at finite n (usually downwards for strong
        dependence), and may be negative.

    Raises
    ------
    ValueError
        NaN/inf, fewer than ``k + 1`` samples, different lengths, a zero-variance column, or
        points with ``k`` or more exact duplicates in the joint space.

    Notes
    -----
    With :math:`\psi` the digamma function, :math:`\epsilon_i` the distance from point i to its
    k-th neighbour in the joint space and :math:`n_x(i)` the number of other points with
    :math:`\|x_j - x_i\| < \epsilon_i` (Kraskov et al. 2004, Eq. 8):

    .. math:: \hat I_1 = \psi(k) + \psi(n) - \langle \psi(n_x + 1) + \psi(n_y + 1) \rangle.

    Estimator 2 (Eq. 9) counts :math:`\|x_j - x_i\| \le \epsilon_x(i)`, the largest x-distance
    within the neighbourhood: :math:`\hat I_2 = \psi(k) - 1/k + \psi(n) - \langle\psi(n_x) +
    \psi(n_y)\rangle`.

    Duplicates and ties: ties at the k-th joint distance are all part of the neighbourhood
    (estimator 2's :math:`\epsilon_x` is then order-independent); marginal ties are resolved by
    the strict ``<`` (estimator 1) / ``<=`` (estimator 2) of the paper, evaluated exactly on
    :math:`|x_j - x_i|` (Euclidean distances in d > 1 within a relative 1e-12 of the radius count
    as ties). A point with ``k`` or more exact joint duplicates has :math:`\epsilon_i = 0`, where
    the density argument fails: that raises instead of returning an arbitrary number (the
    sklearn #30772 failure); ``jitter`` is the explicit way out.

    References
    ----------
    A. Kraskov, H. Stoegbauer, P. Grassberger, "Estimating mutual information", Phys. Rev. E 69,
    066138 (2004).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal(2000); y = x + rng.standard_normal(2000)
    >>> round(mi_ksg(x, y).value, 2)   # truth 0.5 log 2 = 0.347
    0.34
    """
    check_unit(unit)
    k = check_int(k, "k", minimum=1)
    check_device(device)
    check_option(method, "method", ("ksg1", "ksg2"))
    check_option(metric, "metric", ("chebyshev", "euclidean"))
    if jitter is not None:
        jitter = check_positive(jitter, "jitter")
    rng = as_generator(seed) if jitter is not None else None
    xa = _prepare(x, "x", k, standardize, jitter, rng)
    ya = _prepare(y, "y", k, standardize, jitter, rng)
    check_same_length(xa, ya, "x", "y")
    n = xa.shape[0]
    if device is None:
        nx, ny, eps = _ksg_counts(xa, ya, k, method, metric)
    else:
        nx, ny, eps = _ksg_counts_torch(xa, ya, k, method, metric, device)
    n_zero = int(np.count_nonzero(eps == 0.0))
    if n_zero:
        raise _duplicate_error(n_zero, "x and y", k)
    raw = _ksg_value(nx, ny, n, k, method)
    value = max(0.0, raw) if clip_negative else raw
    return info_value(value, unit=unit, kind="estimate", method=method, n_samples=n,
                      details={"k": k, "metric": metric, "standardize": standardize,
                               "jitter": jitter, "clip_negative": clip_negative,
                               "raw_value": raw, "dim_x": xa.shape[1], "dim_y": ya.shape[1]},
                      convert_keys=("raw_value",))


def entropy_knn(
    x: ArrayLike,
    *,
    k: int = 3,
    metric: Metric = "euclidean",
    jitter: float | None = None,
    device: str | None = None,
    unit: Unit = "nats",
    seed: Seed = None,
) -> InfoValue:
    r"""Kozachenko-Leonenko k-nearest-neighbour estimate of the differential entropy :math:`H(X)`.

    Parameters
    ----------
    x : array_like, shape (n_samples, dim) or (n_samples,)
    k : int
        Neighbour order (``n_samples >= k + 1``).
    metric : {"euclidean", "chebyshev"}
        Norm for the neighbour radius and the unit-ball volume.
    jitter, device, unit, seed
        As in ``mi_ksg`` (``jitter`` is off by default and changes the entropy by
        O(jitter^2); ``device=None`` is the CPU KD-tree, a torch device the O(n^2) twin).

    Returns
    -------
    InfoValue
        **Estimate** (``kind="estimate"``, ``method="kozachenko_leonenko"``) of :math:`H(X)`
        (asymptotically unbiased, consistent). Not scale-invariant: no standardisation.

    Raises
    ------
    ValueError
        NaN/inf, fewer than ``k + 1`` samples, a zero-variance column, or points with ``k`` or
        more exact duplicates (k-NN distance 0, log 0).

    Notes
    -----
    Kraskov et al. (2004), Eq. (20), written with the radius :math:`r_i` to the k-th neighbour
    and the volume :math:`V_d` of the unit ball of the norm (:math:`\pi^{d/2}/\Gamma(d/2+1)`
    Euclidean, :math:`2^d` Chebyshev):

    .. math:: \hat H = \psi(n) - \psi(k) + \log V_d + \frac dn \sum_i \log r_i.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((4000, 2))
    >>> round(entropy_knn(x).value, 1)   # truth log(2 pi e) = 2.838
    2.8
    """
    check_unit(unit)
    k = check_int(k, "k", minimum=1)
    check_device(device)
    check_option(metric, "metric", ("chebyshev", "euclidean"))
    if jitter is not None:
        jitter = check_positive(jitter, "jitter")
    rng = as_generator(seed) if jitter is not None else None
    xa = _prepare(x, "x", k, False, jitter, rng)
    n, d = xa.shape
    p = np.inf if metric == "chebyshev" else 2.0
    if device is None:
        tree = cKDTree(xa, balanced_tree=False)  # leaf-order queries; the mean ignores order
        r = tree.query(xa[tree.indices], k=k + 1, p=p, workers=-1)[0][:, k]
    else:
        r = _knn_radius_torch(xa, k, metric, device)
    n_zero = int(np.count_nonzero(r == 0.0))
    if n_zero:
        raise _duplicate_error(n_zero, "x", k)
    log_vd = d * math.log(2.0) if metric == "chebyshev" else (
        0.5 * d * math.log(math.pi) - float(gammaln(0.5 * d + 1.0)))
    h = float(digamma(n) - digamma(k) + log_vd + d * np.mean(np.log(r)))
    return info_value(h, unit=unit, kind="estimate", method="kozachenko_leonenko", n_samples=n,
                      details={"k": k, "metric": metric, "jitter": jitter, "dim": d})


def _knn_radius_torch(x: np.ndarray, k: int, metric: str, device: str) -> np.ndarray:
    """Distance to the k-th neighbour, brute force in torch (float64)."""
    import torch

    t = torch.as_tensor(x, dtype=torch.float64, device=device)
    n = t.shape[0]
    step = max(1, _ROW_BLOCK // (n * t.shape[1]))
    out = []
    for s0 in range(0, n, step):
        diff = (t[s0:s0 + step, None, :] - t[None, :, :]).abs()
        dist = diff.amax(-1) if metric == "chebyshev" else diff.square().sum(-1).sqrt()
        out.append(torch.kthvalue(dist, k + 1, dim=1).values)
    return torch.cat(out).cpu().numpy()


# ---- slow, obviously-correct twins (tests only) -------------------------------------------------
def _pairwise(a: np.ndarray, metric: str) -> np.ndarray:
    return _marginal_dist(a[:, None, :], a[None, :, :], metric)  # (n, n)


def _ksg_mi_reference(x: np.ndarray, y: np.ndarray, *, k: int, method: str,
                      metric: str) -> float:
    """O(n^2) KSG straight from Kraskov et al. (2004), Eqs. (8)-(9): full distance matrices."""
    x, y = np.atleast_2d(x.T).T, np.atleast_2d(y.T).T
    n = x.shape[0]
    dx, dy = _pairwise(x, metric), _pairwise(y, metric)
    dj = np.maximum(dx, dy)
    nx, ny = np.empty(n), np.empty(n)
    for i in range(n):
        others = np.delete(np.arange(n), i)
        eps = np.sort(dj[i, others])[k - 1]
        if method == "ksg1":
            nx[i] = np.sum(dx[i, others] < eps)
            ny[i] = np.sum(dy[i, others] < eps)
        else:
            nb = others[dj[i, others] <= eps]  # all points within the k-th distance (ties too)
            nx[i] = np.sum(dx[i, others] <= dx[i, nb].max())
            ny[i] = np.sum(dy[i, others] <= dy[i, nb].max())
    return _ksg_value(nx, ny, n, k, method)


def _entropy_knn_reference(x: np.ndarray, *, k: int, metric: str) -> float:
    """O(n^2) Kozachenko-Leonenko from the full distance matrix (Kraskov et al. Eq. 20)."""
    x = np.atleast_2d(x.T).T
    n, d = x.shape
    dist = _pairwise(x, metric)
    r = np.array([np.sort(np.delete(dist[i], i))[k - 1] for i in range(n)])
    vol = 2.0**d if metric == "chebyshev" else math.pi ** (d / 2) / math.gamma(d / 2 + 1)
    return float(digamma(n) - digamma(k) + math.log(vol) + d * np.mean(np.log(r)))
