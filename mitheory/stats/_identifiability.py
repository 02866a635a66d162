"""Identifiability metrics: R^2 of predicting true latents from a representation, and MCC.

Linear / kernel-ridge R^2 as in von Kuegelgen et al. (2021), Sec. 5.1 (``ssl_identifiability``
``disentanglement_utils.py``); MCC as in Zimmermann et al. (2021) (cl-ica
``disentanglement_utils.py``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from mitheory._rng import as_generator, int_seed, spawn
from mitheory._types import Seed
from mitheory._validate import (
    check_int,
    check_nonconstant,
    check_option,
    check_positive,
    check_probability,
    check_same_length,
    check_samples,
)

R2Method = Literal["linear", "kernel"]
R2_METHODS: tuple[str, ...] = ("linear", "kernel")
DEFAULT_ALPHAS: tuple[float, ...] = (1.0, 0.1, 0.01, 0.001)
DEFAULT_GAMMAS: tuple[float, ...] = tuple(float(g) for g in np.logspace(-2, 2, 4))


def _check_grid(values: Sequence[float], name: str) -> list[float]:
    vals = list(values)
    if not vals:
        raise ValueError(f"{name} must be a non-empty sequence of positive numbers")
    return [check_positive(v, f"{name}[{i}]") for i, v in enumerate(vals)]


def _check_split(h: np.ndarray, z: np.ndarray, h_name: str, z_name: str) -> None:
    check_same_length(h, z, h_name, z_name)
    check_nonconstant(z, z_name)  # R^2 of a constant target is undefined


def r2_identifiability(
    h_fit: ArrayLike,
    z_fit: ArrayLike,
    h_eval: ArrayLike,
    z_eval: ArrayLike,
    *,
    method: R2Method = "linear",
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    cv: int = 3,
    seed: Seed = None,
) -> dict[str, Any]:
    """Held-out R^2 of predicting the true latents ``z`` from a representation ``h``.

    Parameters
    ----------
    h_fit, z_fit : array_like, shapes (n_fit, dim_h), (n_fit, dim_z)
        Representation and true latents used to fit the regression (and the scalers).
    h_eval, z_eval : array_like, shapes (n_eval, dim_h), (n_eval, dim_z)
        Fresh samples the fitted regression is scored on.
    method : {"linear", "kernel"}
        ``"linear"``: ordinary least squares (``LinearRegression``). ``"kernel"``: RBF
        ``KernelRidge`` tuned by ``GridSearchCV`` over ``alphas x gammas`` with ``cv`` folds
        (scored by R^2); the von Kuegelgen "nonlinear R^2".
    alphas, gammas : sequence of float
        Ridge penalties and RBF widths of the grid (defaults: the paper code's
        ``{1, 0.1, 0.01, 0.001}`` and ``logspace(-2, 2, 4)``). Only used by ``"kernel"``.
    cv : int
        Folds of the grid search (>= 2).
    seed : int, Generator, SeedSequence or None
        ``None`` keeps sklearn's unshuffled ``KFold`` (as the paper code); otherwise folds are
        shuffled with this seed.

    Returns
    -------
    dict
        ``r2`` (float): an **estimate** of the out-of-sample coefficient of determination

        .. math:: R^2 = \\frac{1}{d_z}\\sum_j \\Big(1 - \\frac{\\sum_i (z_{ij} - \\hat z_{ij})^2}
                  {\\sum_i (z_{ij} - \\bar z_j)^2}\\Big)

        on the eval split (``sklearn.metrics.r2_score``, uniform average; can be negative),
        ``r2_per_dim`` (list), ``method``, ``n_fit``, ``n_eval``, and for ``"kernel"`` the
        chosen ``alpha``, ``gamma`` and the best mean CV R^2 ``cv_r2``.

    Notes
    -----
    ``h`` and ``z`` are standardised with ``StandardScaler`` fitted on the fit split and
    applied to both splits (von Kuegelgen et al. 2021, Sec. 5.1; ``main_mlp.py --evaluate``).
    This changes nothing for the linear R^2 (affine invariance) but sets the RBF scale.
    Differences from the paper code: the kernel grid search runs with ``n_jobs=1`` and the
    returned dict records the chosen hyperparameters. A representation column that is constant
    is allowed (a collapsed encoder scores R^2 about 0); a constant target column raises.

    References
    ----------
    von Kuegelgen et al. (2021), "Self-Supervised Learning with Data Augmentations Provably
    Isolates Content from Style", NeurIPS.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal((200, 3))
    >>> out = r2_identifiability(z[:100] @ [[1, 2, 0], [0, 1, 0], [0, 0, 3]], z[:100],
    ...                          z[100:] @ [[1, 2, 0], [0, 1, 0], [0, 0, 3]], z[100:])
    >>> round(out["r2"], 6)
    1.0
    """
    method = check_option(method, "method", R2_METHODS)
    cv = check_int(cv, "cv", minimum=2)
    grid = {"alpha": _check_grid(alphas, "alphas"), "gamma": _check_grid(gammas, "gammas")}
    hf = check_samples(h_fit, "h_fit")
    min_fit = hf.shape[1] + 2 if method == "linear" else 2 * cv
    hf = check_samples(hf, "h_fit", min_samples=min_fit)
    zf = check_samples(z_fit, "z_fit", min_samples=min_fit)
    he = check_samples(h_eval, "h_eval", min_samples=2)
    ze = check_samples(z_eval, "z_eval", min_samples=2)
    _check_split(hf, zf, "h_fit", "z_fit")
    _check_split(he, ze, "h_eval", "z_eval")
    for fit, ev, name in ((hf, he, "h"), (zf, ze, "z")):
        if fit.shape[1] != ev.shape[1]:
            raise ValueError(
                f"{name}_fit and {name}_eval must have the same number of columns, "
                f"got {fit.shape[1]} and {ev.shape[1]}"
            )
    h_scaler, z_scaler = StandardScaler().fit(hf), StandardScaler().fit(zf)
    hf_s, he_s = h_scaler.transform(hf), h_scaler.transform(he)
    zf_s, ze_s = z_scaler.transform(zf), z_scaler.transform(ze)
    out: dict[str, Any] = {"method": method, "n_fit": len(hf), "n_eval": len(he)}
    if method == "linear":
        model = LinearRegression().fit(hf_s, zf_s)
    else:
        folds = KFold(cv, shuffle=seed is not None,
                      random_state=None if seed is None else int_seed(seed) % 2**32)
        model = GridSearchCV(KernelRidge(kernel="rbf"), grid, cv=folds, n_jobs=1).fit(hf_s, zf_s)
        out.update(alpha=float(model.best_params_["alpha"]),
                   gamma=float(model.best_params_["gamma"]), cv_r2=float(model.best_score_))
    per_dim = r2_score(ze_s, model.predict(he_s).reshape(ze_s.shape), multioutput="raw_values")
    out.update(r2=float(np.mean(per_dim)), r2_per_dim=[float(v) for v in per_dim])
    return out


def _split_one_sample(
    h: ArrayLike, z: ArrayLike, train_fraction: float, seed: Seed
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    hh, zz = check_samples(h, "h"), check_samples(z, "z")
    check_same_length(hh, zz, "h", "z")
    frac = check_probability(train_fraction, "train_fraction")
    n_fit = int(round(frac * len(hh)))
    if not 0 < n_fit < len(hh):
        raise ValueError(
            f"train_fraction={train_fraction!r} leaves an empty split of {len(hh)} samples"
        )
    order = np.arange(len(hh)) if seed is None else as_generator(seed).permutation(len(hh))
    fit, ev = order[:n_fit], order[n_fit:]
    return hh[fit], zz[fit], hh[ev], zz[ev]


def r2_linear(
    h: ArrayLike, z: ArrayLike, *, train_fraction: float = 0.5, seed: Seed = None
) -> float:
    """Linear held-out R^2 (an estimate) of ``z`` from ``h`` on one sample split in two.

    The first ``train_fraction`` of the rows (a random permutation of them when ``seed`` is
    given) fit the regression, the rest score it, as in cl-ica's ``train_test_split=True``.
    See :func:`r2_identifiability` for the formula.

    Examples
    --------
    >>> z = np.random.default_rng(0).standard_normal((100, 2))
    >>> round(r2_linear(3 * z + 1, z), 6)
    1.0
    """
    h_fit, z_fit, h_eval, z_eval = _split_one_sample(h, z, train_fraction, seed)
    return r2_identifiability(h_fit, z_fit, h_eval, z_eval, method="linear")["r2"]


def r2_kernel(
    h: ArrayLike,
    z: ArrayLike,
    *,
    train_fraction: float = 0.5,
    max_fit_samples: int = 2000,
    seed: Seed = None,
) -> float:
    """Kernel-ridge (RBF, grid-searched) held-out R^2 (an estimate) of ``z`` from ``h``.

    Kernel ridge costs O(n_fit^3) time and O(n_fit^2) memory, so at most ``max_fit_samples``
    of the fit split are used (the first ones); the whole eval split is scored. See
    :func:`r2_identifiability` for the formula and the grid.

    Examples
    --------
    >>> z = np.random.default_rng(0).uniform(-1, 1, (200, 1))
    >>> r2_kernel(np.exp(2 * z), z) > 0.9
    True
    """
    max_fit = check_int(max_fit_samples, "max_fit_samples", minimum=2)
    ss_split, ss_folds = (None, None) if seed is None else spawn(seed, 2)
    h_fit, z_fit, h_eval, z_eval = _split_one_sample(h, z, train_fraction, ss_split)
    return r2_identifiability(
        h_fit[:max_fit], z_fit[:max_fit], h_eval, z_eval, method="kernel", seed=ss_folds
    )["r2"]


def mcc(
    h: ArrayLike, z: ArrayLike, *, return_details: bool = False
) -> float | tuple[float, np.ndarray, np.ndarray]:
    """Mean correlation coefficient: mean |Pearson r| over the best one-to-one column matching.

    Parameters
    ----------
    h : array_like, shape (n_samples, dim_h)
        Representation.
    z : array_like, shape (n_samples, dim_z)
        True latents.
    return_details : bool
        Also return the matching and the correlation matrix.

    Returns
    -------
    float, or (float, np.ndarray, np.ndarray)
        The MCC in [0, 1] (an **estimate** of the population MCC, biased upward by about
        ``1/sqrt(n)`` for unrelated data because of the max over matchings); with details,
        ``assignment`` of shape (k, 2) holding matched ``(z column, h column)`` pairs,
        ``k = min(dim_z, dim_h)``, and ``corr`` of shape (dim_z, dim_h), the signed Pearson
        correlations.

        .. math:: \\mathrm{MCC} = \\max_{\\pi} \\frac{1}{k} \\sum_{j} |\\rho(z_j, h_{\\pi(j)})|.

    Notes
    -----
    The assignment maximising the summed |corr| is found by the Hungarian algorithm
    (``scipy.optimize.linear_sum_assignment`` on ``-|corr|``); cl-ica uses ``munkres`` on the
    same matrix. MCC is 1 exactly for a permuted, rescaled, sign-flipped copy of ``z``.
    A constant column of ``h`` (a collapsed unit, whose Pearson r is undefined) is given
    correlation 0 with every latent, so a fully collapsed ``h`` scores 0 instead of raising;
    cl-ica would return NaN there. A constant column of ``z`` raises.

    Examples
    --------
    >>> z = np.random.default_rng(0).standard_normal((500, 3))
    >>> round(mcc(-2 * z[:, [2, 0, 1]], z), 12)
    1.0
    """
    hh, zz = check_samples(h, "h", min_samples=3), check_samples(z, "z", min_samples=3)
    check_same_length(hh, zz, "h", "z")
    check_nonconstant(zz, "z")
    dz = zz.shape[1]
    live = np.std(hh, axis=0) > 0  # constant (collapsed) h columns carry no information
    corr = np.zeros((dz, hh.shape[1]))  # (dim_z, dim_h)
    if np.any(live):
        corr[:, live] = np.corrcoef(zz, hh[:, live], rowvar=False)[:dz, dz:]
    rows, cols = linear_sum_assignment(-np.abs(corr))
    value = float(np.mean(np.abs(corr[rows, cols])))
    if return_details:
        return value, np.stack([rows, cols], axis=1), corr
    return value
