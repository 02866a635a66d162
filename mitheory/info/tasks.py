"""Distributions with known mutual information, for testing estimators (bmi-style tasks).

Every task has ``dim_x``, ``dim_y``, ``name``, ``params``, ``sample(n, *, seed) -> (x, y)``
(float64 arrays of shapes ``(n, dim_x)``, ``(n, dim_y)``) and ``mutual_information(*, unit)``;
``entropy(which, *, unit)`` where it has a closed form. ``TASKS`` maps a name to a zero-argument
factory and is what ``studies.bound_tightness`` iterates over.

Families (reproduced from their definitions in cbg-ethz/bmi, ``src/bmi/benchmark/task_list.py``,
``tasks/*.py``, ``samplers/*.py``; Czyz et al., "Beyond Normal", NeurIPS 2023):

- ``CorrelatedGaussian``: exact MI (``mi_gaussian``). bmi's 1v1 normal (rho = 0.75), dense
  (2,2)/(3,3)/(5,5)/(25,25)/(50,50) with all correlations 0.5, and sparse "2-pair"
  (2,2)/(3,3)/(5,5)/(25,25): bmi's ``GaussianLVMParametrization(alpha=0, lambd=eta=2,
  epsilon=1, beta=0)`` has Var = 5 and Cov(X_i, Y_i) = 4 for i < 2, i.e. correlation 0.8 on two
  coordinate pairs and 0 elsewhere. ``CorrelatedGaussian.from_mi(mi, dim)`` picks equal
  canonical correlations giving a chosen MI.
- ``StudentT``: multivariate Student-t, exact MI = Gaussian MI of the dispersion + a dof/dimension
  correction (bmi ``SplitStudentT``; Arellano-Valle et al. 2013, Eq. 7). bmi's identity-dispersion
  tasks 1v1 (dof 1), (2,2) dof 1, 2, (3,3) dof 2, 3, (5,5) dof 2, 3, plus 1v1 dof 1..5.
- ``TransformedTask(base, fx, fy)``: invertible maps of each variable keep the MI (Kraskov et al.
  2004; the invariance behind claim C13). Maps: ``asinh``, ``cube``, ``half_cube``,
  ``normal_cdf`` (uniform margins), ``wiggly_x``/``wiggly_y``, ``Spiral`` (bmi's x -> exp(s
  ||x||^2 A) x), ``GaussianToMixture`` (bmi's "bimodal" margins by a quantile transform).
- ``AdditiveUniform(epsilon)``: X ~ U(0, 1), Y = X + U(-eps, eps); exact MI (bmi).
- ``UniformVMF(dim, kappa)``: X uniform on the sphere, Y | X ~ vMF(X, kappa); Y is uniform, so
  MI = H(uniform sphere) - H(vMF), exact.
- ``GaussianMixtureTask``: (X, Y) a Gaussian mixture; MI by high-precision Monte Carlo,
  ``kind="estimate"`` and ``details["ground_truth"] = "monte_carlo"``. bmi v2's "X", "AI",
  "galaxy" (spiral of a 2-ball mixture), "concentric" and "sparse with inliers" tasks.

Differences from bmi: samplers use numpy Generators (so samples differ from bmi's JAX draws);
the spiral uses bmi's ``speed = 1/3`` (its history also has ``speed/dim``), in the (0, 1) plane
for X and the (1, 2) plane for Y when ``dim_y >= 3`` (bmi), else (0, 1).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln, ndtr

from mitheory._rng import as_generator
from mitheory._types import InfoValue, Seed, Unit
from mitheory._validate import (check_array, check_covariance, check_finite_number, check_int,
                                check_positive)
from mitheory.info._common import info_value
from mitheory.info._gaussian import entropy_gaussian, mi_gaussian
from mitheory.info._mixture import _mixture, entropy_mixture_mc, mi_mixture_mc
from mitheory.generative import sample_uniform_sphere, sample_vmf
from mitheory.info._sphere import entropy_uniform_sphere, entropy_vmf

Which = Literal["x", "y", "xy"]

__all__ = [
    "Task", "CorrelatedGaussian", "StudentT", "TransformedTask", "AdditiveUniform", "UniformVMF",
    "asinh", "cube", "half_cube", "normal_cdf", "wiggly_x", "wiggly_y", "Spiral",
    "GaussianToMixture", "GaussianMixtureTask", "TASKS",
]


# ---- base ---------------------------------------------------------------------------------------
class Task:
    """A joint law of ``(X, Y)`` that knows its mutual information (base class)."""

    name: str
    dim_x: int
    dim_y: int
    params: dict[str, Any]

    def sample(self, n: int, *, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` i.i.d. pairs: arrays of shape ``(n, dim_x)`` and ``(n, dim_y)``."""
        n = check_int(n, "n", minimum=1)
        xy = self._sample_joint(n, as_generator(seed))
        return xy[:, : self.dim_x], xy[:, self.dim_x:]

    def _sample_joint(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def mutual_information(self, *, unit: Unit = "nats") -> InfoValue:
        """:math:`I(X;Y)` (exact unless the subclass says otherwise)."""
        raise NotImplementedError

    def entropy(self, which: Which = "xy", *, unit: Unit = "nats") -> InfoValue:
        """Differential entropy of ``X``, ``Y`` or ``(X, Y)`` where a closed form exists."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form entropy")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim_x={self.dim_x}, dim_y={self.dim_y})"


def _check_which(which: str) -> None:
    if which not in ("x", "y", "xy"):
        raise ValueError(f"which must be one of ('x', 'y', 'xy'), got {which!r}")


def _split(dim_x: int, total: int, matrix_name: str) -> tuple[int, int]:
    """Validate ``dim_x`` against the size of the joint matrix; return ``(dim_x, dim_y)``."""
    dim_x = check_int(dim_x, "dim_x", minimum=1)
    if dim_x >= total:
        raise ValueError(f"dim_x must be < {total} (the size of {matrix_name}), got {dim_x}")
    return dim_x, total - dim_x


def _block(mat: np.ndarray, dim_x: int, which: str) -> np.ndarray:
    return {"x": mat[:dim_x, :dim_x], "y": mat[dim_x:, dim_x:], "xy": mat}[which]


# ---- Gaussian -----------------------------------------------------------------------------------
class CorrelatedGaussian(Task):
    r"""Jointly Gaussian :math:`(X, Y) \sim \mathcal N(m, \Sigma)`; exact MI and entropies."""

    def __init__(self, cov_joint: ArrayLike, dim_x: int, *, mean: ArrayLike | None = None,
                 name: str | None = None) -> None:
        self.cov = check_covariance(cov_joint, "cov_joint")
        total = self.cov.shape[0]
        self.dim_x, self.dim_y = _split(dim_x, total, "cov_joint")
        self.mean = np.zeros(total) if mean is None else check_array(mean, "mean", ndim=1)
        if self.mean.shape != (total,):
            raise ValueError(f"mean must have shape ({total},), got {self.mean.shape}")
        self._chol = np.linalg.cholesky(self.cov)
        self.name = name or f"normal-{self.dim_x}v{self.dim_y}"
        self.params = {"cov_joint": self.cov.tolist(), "dim_x": self.dim_x}

    @classmethod
    def from_correlations(cls, rho: ArrayLike, *, dim_y: int | None = None,
                          name: str | None = None) -> CorrelatedGaussian:
        """Unit variances, Corr(X_i, Y_i) = rho_i (the canonical form), all else 0."""
        r = check_array(rho, "rho", ndim=(0, 1)).ravel()
        dx = r.size
        dy = dx if dim_y is None else check_int(dim_y, "dim_y", minimum=dx)
        cov = np.eye(dx + dy)
        cov[np.arange(dx), dx + np.arange(dx)] = r
        cov[dx + np.arange(dx), np.arange(dx)] = r
        return cls(cov, dx, name=name)

    @classmethod
    def from_mi(cls, mi: float, dim: int, *, name: str | None = None) -> CorrelatedGaussian:
        r"""``dim`` pairs with equal canonical correlation
        :math:`\rho = \sqrt{1 - e^{-2I/\mathrm{dim}}}`, so that :math:`I(X;Y)` = ``mi`` nats."""
        mi = check_positive(mi, "mi", strict=False)
        dim = check_int(dim, "dim", minimum=1)
        rho = math.sqrt(-math.expm1(-2.0 * mi / dim))
        return cls.from_correlations(np.full(dim, rho), name=name or f"normal-mi{mi:g}-{dim}v{dim}")

    @classmethod
    def dense(cls, dim_x: int, dim_y: int, *, off_diag: float = 0.5,
              name: str | None = None) -> CorrelatedGaussian:
        """bmi ``task_multinormal_dense``: every two coordinates have correlation ``off_diag``."""
        d = dim_x + dim_y
        return cls(np.eye(d) * (1.0 - off_diag) + off_diag, dim_x,
                   name=name or f"{dim_x}v{dim_y}-normal-dense")

    @classmethod
    def two_pair(cls, dim_x: int, dim_y: int, *, correlation: float = 0.8,
                 name: str | None = None) -> CorrelatedGaussian:
        """bmi ``task_multinormal_2pair``: Corr(X_i, Y_i) = 0.8 for i < 2, all else 0."""
        rho = np.zeros(dim_x)
        rho[:2] = correlation
        return cls.from_correlations(rho, dim_y=dim_y, name=name or f"{dim_x}v{dim_y}-normal-2pair")

    def _sample_joint(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.mean + rng.standard_normal((n, self.cov.shape[0])) @ self._chol.T

    def mutual_information(self, *, unit: Unit = "nats") -> InfoValue:
        """Exact, ``mi_gaussian(cov_joint, dim_x)``."""
        return mi_gaussian(self.cov, self.dim_x, unit=unit)

    def entropy(self, which: Which = "xy", *, unit: Unit = "nats") -> InfoValue:
        """Exact, ``entropy_gaussian`` of the chosen block."""
        _check_which(which)
        return entropy_gaussian(_block(self.cov, self.dim_x, which), unit=unit)


# ---- Student-t ----------------------------------------------------------------------------------
def _entropy_standard_t(k: int, df: float) -> float:
    """Entropy of the k-variate Student-t with identity dispersion (Arellano-Valle 2013, Eq. 7)."""
    half = 0.5 * (df + k)
    return float(gammaln(0.5 * df) - gammaln(half) + 0.5 * k * math.log(df * math.pi)
                 + half * (digamma(half) - digamma(0.5 * df)))


class StudentT(Task):
    r"""Multivariate Student-t :math:`(X, Y) = G/\sqrt{U/\nu}`, :math:`G\sim\mathcal N(0,\Omega)`,
    :math:`U \sim \chi^2_\nu`.

    Exact MI (bmi ``SplitStudentT.mutual_information``; Arellano-Valle et al. 2013, p. 47,
    through the entropies of Eq. 7, since the paper's final MI formula has a typo):

    .. math:: I(X;Y) = I_{\mathcal N}(\Omega) + h_{d_x}(\nu) + h_{d_y}(\nu) - h_{d_x+d_y}(\nu),

    with :math:`h_k(\nu)` the entropy of the standard k-variate t and :math:`I_{\mathcal N}` the
    Gaussian MI of the dispersion :math:`\Omega` (not the covariance).
    """

    def __init__(self, dispersion: ArrayLike, dim_x: int, df: float, *,
                 name: str | None = None) -> None:
        self.dispersion = check_covariance(dispersion, "dispersion")
        self.dim_x, self.dim_y = _split(dim_x, self.dispersion.shape[0], "dispersion")
        self.df = check_positive(df, "df")
        self._chol = np.linalg.cholesky(self.dispersion)
        self.name = name or f"student-{self.dim_x}v{self.dim_y}-dof{self.df:g}"
        self.params = {"dispersion": self.dispersion.tolist(), "dim_x": self.dim_x, "df": self.df}

    @classmethod
    def identity(cls, dim_x: int, dim_y: int, df: float, *, name: str | None = None) -> StudentT:
        """bmi ``task_student_identity``: identity dispersion (MI is the dof correction alone)."""
        return cls(np.eye(dim_x + dim_y), dim_x, df,
                   name=name or f"{dim_x}v{dim_y}-student-identity-dof{df:g}")

    def _sample_joint(self, n: int, rng: np.random.Generator) -> np.ndarray:
        g = rng.standard_normal((n, self.dispersion.shape[0])) @ self._chol.T
        u = rng.chisquare(self.df, size=(n, 1))
        return g / np.sqrt(u / self.df)

    def mutual_information(self, *, unit: Unit = "nats") -> InfoValue:
        """Exact (see class docstring)."""
        corr = (_entropy_standard_t(self.dim_x, self.df) + _entropy_standard_t(self.dim_y, self.df)
                - _entropy_standard_t(self.dim_x + self.dim_y, self.df))
        mi = float(mi_gaussian(self.dispersion, self.dim_x)) + corr
        return info_value(mi, unit=unit, kind="exact", method="student_t_closed_form",
                          details={"df": self.df, "dof_correction_nats": corr})

    def entropy(self, which: Which = "xy", *, unit: Unit = "nats") -> InfoValue:
        r"""Exact: :math:`h_k(\nu) + \tfrac12\log\det\Omega_{\text{block}}`."""
        _check_which(which)
        block = _block(self.dispersion, self.dim_x, which)
        h = _entropy_standard_t(block.shape[0], self.df) + 0.5 * np.linalg.slogdet(block)[1]
        return info_value(h, unit=unit, kind="exact", method="student_t_closed_form",
                          details={"df": self.df, "which": which})


# ---- invertible maps ----------------------------------------------------------------------------
def asinh(x: np.ndarray) -> np.ndarray:
    """Elementwise ``arcsinh`` (bmi's asinh task: shortens Student-t tails)."""
    return np.arcsinh(x)


def cube(x: np.ndarray) -> np.ndarray:
    """Elementwise ``x**3``."""
    return x**3


def half_cube(x: np.ndarray) -> np.ndarray:
    """Elementwise ``x * sqrt(|x|)`` (bmi ``half_cube``: longer tails)."""
    return x * np.sqrt(np.abs(x))


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Elementwise standard-normal CDF (bmi: Gaussian -> uniform margins)."""
    return ndtr(x)


def wiggly_x(x: np.ndarray) -> np.ndarray:
    """bmi ``wiggly_x``: x + 0.4 sin x + 0.2 sin(1.7x + 1) + 0.03 sin(3.3x - 2.5) (increasing)."""
    return x + 0.4 * np.sin(x) + 0.2 * np.sin(1.7 * x + 1) + 0.03 * np.sin(3.3 * x - 2.5)


def wiggly_y(x: np.ndarray) -> np.ndarray:
    """bmi ``wiggly_y``: x - 0.4 sin(0.4x) + 0.17 sin(1.3x + 3.5) + 0.02 sin(4.3x - 2.5)."""
    return x - 0.4 * np.sin(0.4 * x) + 0.17 * np.sin(1.3 * x + 3.5) + 0.02 * np.sin(4.3 * x - 2.5)


class Spiral:
    r"""bmi ``Spiral``: :math:`x \mapsto \exp(s\,\|x\|^2 A)\,x`, a rotation in one coordinate plane
    by the angle :math:`s\|x\|^2`; it keeps :math:`\|x\|`, so it is invertible.

    ``A`` is the so(n) generator of the plane ``(i, j)`` (``A[i, j] = -1``, ``A[j, i] = 1``),
    so :math:`\exp(\theta A)` rotates :math:`(x_i, x_j)` by :math:`\theta`.
    """

    def __init__(self, speed: float = 1.0 / 3.0, plane: tuple[int, int] = (0, 1)) -> None:
        self.speed = check_finite_number(speed, "speed")
        if len(plane) != 2:
            raise ValueError(f"plane must be two coordinate indices, got {plane!r}")
        self.plane = (check_int(plane[0], "plane[0]", minimum=0),
                      check_int(plane[1], "plane[1]", minimum=0))
        if self.plane[0] == self.plane[1]:
            raise ValueError(f"plane must be two different coordinates, got {plane!r}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        i, j = self.plane
        check_array(x, "x", ndim=2)
        if x.shape[1] <= max(i, j):
            raise ValueError(f"x needs more than {max(i, j)} columns for the Spiral plane "
                             f"{self.plane}, got shape {x.shape}")
        theta = self.speed * np.sum(x * x, axis=1)
        c, s = np.cos(theta), np.sin(theta)
        out = x.copy()
        out[:, i] = c * x[:, i] - s * x[:, j]
        out[:, j] = s * x[:, i] + c * x[:, j]
        return out


class GaussianToMixture:
    r"""Quantile map :math:`F_{\text{mix}}^{-1}\circ\Phi` sending N(0, 1) to a 1-D mixture of
    unit-variance Gaussians (strictly increasing, hence MI-preserving).

    bmi's "bimodal" task uses means (0, 5), weights (0.3, 0.7) for X and means (-1, 3), weights
    (0.5, 0.5) for Y. The inverse is found by 80 bisection steps, on the CDF for x <= 0 and on the
    survival function for x > 0 (so the upper tail keeps its precision).
    """

    def __init__(self, means: ArrayLike, weights: ArrayLike) -> None:
        m = check_array(means, "means", ndim=1)
        w = check_array(weights, "weights", ndim=1)
        if m.size == 0:
            raise ValueError("means must hold at least one component mean")
        if w.shape != m.shape:
            raise ValueError(f"weights must have shape {m.shape} to match means, got {w.shape}")
        if w.min() < 0 or not w.sum() > 0:
            raise ValueError(f"weights must be >= 0 with a positive sum, got {w.tolist()}")
        self.means = np.asarray(means, dtype=float)
        self.weights = np.asarray(weights, dtype=float) / np.sum(weights)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        check_array(x, "x")
        lo = np.full(x.shape, self.means.min() - 40.0)
        hi = np.full(x.shape, self.means.max() + 40.0)
        upper = x > 0
        target = np.where(upper, ndtr(-x), ndtr(x))
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            d = mid[..., None] - self.means
            cdf = np.sum(self.weights * ndtr(d), axis=-1)
            sf = np.sum(self.weights * ndtr(-d), axis=-1)
            go_right = np.where(upper, sf > target, cdf < target)
            lo = np.where(go_right, mid, lo)
            hi = np.where(go_right, hi, mid)
        return 0.5 * (lo + hi)


class TransformedTask(Task):
    """``(fx(X), fy(Y))`` for a base task; invertible ``fx``, ``fy`` keep the base task's MI.

    ``fx``/``fy`` take and return arrays of shape ``(n, dim)`` (``None`` = identity). The MI is
    the base task's value and kind (Kraskov et al. 2004; MI is invariant under
    homeomorphisms of each variable). Entropies are not invariant, so ``entropy`` is not offered.
    """

    def __init__(self, base: Task, fx: Callable[[np.ndarray], np.ndarray] | None = None,
                 fy: Callable[[np.ndarray], np.ndarray] | None = None, *,
                 name: str | None = None) -> None:
        if not all(hasattr(base, a) for a in ("sample", "dim_x", "dim_y", "name")):
            raise TypeError(f"base must be a Task (sample, dim_x, dim_y, name), "
                            f"got {type(base).__name__}")
        for f, nm in ((fx, "fx"), (fy, "fy")):
            if f is not None and not callable(f):
                raise TypeError(f"{nm} must be a callable or None, got {type(f).__name__}")
        self.base, self.fx, self.fy = base, fx, fy
        self.dim_x, self.dim_y = base.dim_x, base.dim_y
        label = "-".join(getattr(f, "__name__", type(f).__name__) for f in (fx, fy) if f)
        self.name = name or f"{label}({base.name})"
        self.params = {"base": base.name, "base_params": base.params,
                       "fx": getattr(fx, "__name__", repr(fx)),
                       "fy": getattr(fy, "__name__", repr(fy))}

    def sample(self, n: int, *, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.base.sample(n, seed=seed)
        x = x if self.fx is None else np.asarray(self.fx(x), dtype=float).reshape(n, -1)
        y = y if self.fy is None else np.asarray(self.fy(y), dtype=float).reshape(n, -1)
        return x, y

    def mutual_information(self, *, unit: Unit = "nats") -> InfoValue:
        """The base task's MI (same kind), by invariance under invertible maps."""
        base = self.base.mutual_information(unit=unit)
        return replace(base, details={**base.details, "invariance": "invertible marginal maps"})


# ---- additive uniform noise ---------------------------------------------------------------------
class AdditiveUniform(Task):
    r""":math:`X\sim U(0,1)`, :math:`Y = X + N`, :math:`N\sim U(-\varepsilon,\varepsilon)`; exact.

    .. math:: I(X;Y) = \varepsilon - \log(2\varepsilon)\ (\varepsilon\le\tfrac12),
              \qquad \frac{1}{4\varepsilon}\ (\varepsilon > \tfrac12)

    (bmi ``AdditiveUniformSampler``; :math:`I = h(Y) - h(N)` with the trapezoidal density of Y.)
    """

    def __init__(self, epsilon: float, *, name: str | None = None) -> None:
        self.epsilon = check_positive(epsilon, "epsilon")
        self.dim_x = self.dim_y = 1
        self.name = name or f"1v1-additive-{self.epsilon:g}"
        self.params = {"epsilon": self.epsilon}

    def _sample_joint(self, n: int, rng: np.random.Generator) -> np.ndarray:
        x = rng.uniform(0.0, 1.0, n)
        return np.stack([x, x + rng.uniform(-self.epsilon, self.epsilon, n)], axis=1)

    def _h_y(self) -> float:
        e = self.epsilon
        return e if e <= 0.5 else 0.25 / e + math.log(2 * e)

    def mutual_information(self, *, unit: Unit = "nats") -> InfoValue:
        """Exact (see class docstring)."""
        return info_value(self._h_y() - math.log(2 * self.epsilon), unit=unit, kind="exact",
                          method="additive_uniform_closed_form")

    def entropy(self, which: Which = "xy", *, unit: Unit = "nats") -> InfoValue:
        """Exact: h(X) = 0, h(Y) from the trapezoid, h(X, Y) = h(X) + h(N) = log(2 eps)."""
        _check_which(which)
        h = {"x": 0.0, "y": self._h_y(), "xy": math.log(2 * self.epsilon)}[which]
        return info_value(h, unit=unit, kind="exact", method="additive_uniform_closed_form")


# ---- sphere -------------------------------------------------------------------------------------
class UniformVMF(Task):
    r""":math:`X` uniform on :math:`S^{d-1}`, :math:`Y\mid X \sim \mathrm{vMF}(X, \kappa)`; exact.

    :math:`Y` is uniform too (rotation invariance), so
    :math:`I(X;Y) = H(\mathrm{unif}(S^{d-1})) - H(\mathrm{vMF}_\kappa)`
    (the positive-pair law of Zimmermann et al. 2021). Entropies are w.r.t. the surface measure.
    """

    def __init__(self, dim: int, kappa: float, *, name: str | None = None) -> None:
        self.dim = check_int(dim, "dim", minimum=2)
        self.kappa = check_positive(kappa, "kappa", strict=False)
        self.dim_x = self.dim_y = self.dim
        self.name = name or f"sphere-vmf-d{self.dim}-kappa{self.kappa:g}"
        self.params = {"dim": self.dim, "kappa": self.kappa}

    def _sample_joint(self, n: int, rng: np.random.Generator) -> np.ndarray:
        x = sample_uniform_sphere(n, self.dim, seed=rng)
        y = sample_vmf(x, self.kappa, seed=rng) if self.kappa > 0 else (
            sample_uniform_sphere(n, self.dim, seed=rng))
        return np.concatenate([x, y], axis=1)

    def mutual_information(self, *, unit: Unit = "nats") -> InfoValue:
        """Exact: ``entropy_uniform_sphere(dim) - entropy_vmf(kappa, dim)``."""
        mi = float(entropy_uniform_sphere(self.dim)) - float(entropy_vmf(self.kappa, self.dim))
        return info_value(mi, unit=unit, kind="exact", method="uniform_vmf_closed_form",
                          details={"dim": self.dim, "kappa": self.kappa})

    def entropy(self, which: Which = "xy", *, unit: Unit = "nats") -> InfoValue:
        """Exact: uniform for X and Y; H(X) + H(vMF) for the pair (surface measure on each)."""
        _check_which(which)
        h = float(entropy_uniform_sphere(self.dim))
        if which == "xy":
            h += float(entropy_vmf(self.kappa, self.dim))
        return info_value(h, unit=unit, kind="exact", method="uniform_vmf_closed_form")


# ---- Gaussian mixtures --------------------------------------------------------------------------
class GaussianMixtureTask(Task):
    r""":math:`(X, Y)` jointly a Gaussian mixture; MI by high-precision Monte Carlo (flagged).

    ``mutual_information`` returns ``mi_mixture_mc`` with ``n_mc`` draws from the fixed stream
    ``mc_seed`` (so it is reproducible): ``kind="estimate"``, ``details["ground_truth"] =
    "monte_carlo"`` and its ``stderr`` / confidence interval. Computed once and cached.
    ``means``, ``covs``, ``weights`` are as in ``entropy_mixture_bounds`` (joint dimension).
    """

    def __init__(self, means: ArrayLike, covs: ArrayLike | float, weights: ArrayLike | None = None,
                 *, dim_x: int, n_mc: int = 200_000, mc_seed: int = 0,
                 name: str | None = None) -> None:
        self._mix = _mixture(means, covs, weights)
        self.means, self.covs = np.asarray(means, float), np.asarray(covs, float)
        self.weights = self._mix.weights
        self.dim_x, self.dim_y = _split(dim_x, self._mix.d, "means.shape[1]")
        self.n_mc, self.mc_seed = check_int(n_mc, "n_mc", minimum=2), mc_seed
        self.name = name or f"mixture-{self.dim_x}v{self.dim_y}-{self._mix.n}comp"
        self.params = {"means": self.means.tolist(), "covs": self.covs.tolist(),
                       "weights": self.weights.tolist(), "dim_x": self.dim_x, "n_mc": n_mc}
        self._mi: InfoValue | None = None

    def _sample_joint(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self._mix.from_internal(self._mix.sample_internal(n, rng))

    def mutual_information(self, *, unit: Unit = "nats") -> InfoValue:
        """**Estimate** (Monte Carlo ground truth; see the class docstring)."""
        if self._mi is None:
            mi = mi_mixture_mc(self.means, self.covs, self.weights, dim_x=self.dim_x,
                               n_samples=self.n_mc, seed=self.mc_seed)
            self._mi = replace(mi, details={**mi.details, "ground_truth": "monte_carlo"})
        m = self._mi
        return info_value(m.value, unit=unit, kind=m.kind, method=m.method,
                          n_samples=m.n_samples, details=m.details,
                          convert_keys=("stderr", "ci_low", "ci_high"))

    def entropy(self, which: Which = "xy", *, unit: Unit = "nats") -> InfoValue:
        """Joint entropy by ``entropy_mixture_mc`` (**estimate**); only ``which="xy"``."""
        if which != "xy":
            raise NotImplementedError("GaussianMixtureTask.entropy supports which='xy' only")
        return entropy_mixture_mc(self.means, self.covs, self.weights, n_samples=self.n_mc,
                                  seed=self.mc_seed, unit=unit)


def _bmi_x(name: str, corr: float = 0.9) -> GaussianMixtureTask:
    """bmi ``task_x``: equal mixture of N(0, [[1, +-0.9], [+-0.9, 1]])."""
    covs = np.array([[[1.0, s * corr], [s * corr, 1.0]] for s in (-1.0, 1.0)])
    return GaussianMixtureTask(np.zeros((2, 2)), covs, dim_x=1, name=name)


def _bmi_ai(name: str) -> GaussianMixtureTask:
    """bmi ``task_ai``: six 2-D components drawing the letters 'A' and 'I'."""
    off = math.sqrt(0.04 * 0.2) * 0.95
    means = [[1.0, 0.0], [1.0, 1.0], [1.0, -1.0], [-0.8, -0.2], [-1.2, 0.0], [-0.4, 0.0]]
    covs = [np.diag([0.01, 0.2]), np.diag([0.05, 0.001]), np.diag([0.05, 0.001]),
            np.diag([0.03, 0.001]), [[0.04, off], [off, 0.2]], [[0.04, -off], [-off, 0.2]]]
    return GaussianMixtureTask(means, np.array(covs, float), dim_x=1, name=name)


def _bmi_galaxy(name: str, speed: float = 0.5, distance: float = 3.0) -> TransformedTask:
    """bmi ``task_galaxy``: two unit balls at +-(1,1,1) distance/2, X spiralled (speed 0.5)."""
    means = np.array([[-1.0] * 3, [1.0] * 3]) * distance / 2
    base = GaussianMixtureTask(means, 1.0, dim_x=2)
    return TransformedTask(base, Spiral(speed, (0, 1)), None, name=name)


def _bmi_concentric(name: str, dim_x: int, n_components: int = 3) -> GaussianMixtureTask:
    """bmi ``task_concentric_multinormal``: X ~ N(0, i^2 I), Y ~ N(i, 1e-4), i = 1..K."""
    i = np.arange(1, n_components + 1, dtype=float)
    means = np.zeros((n_components, dim_x + 1))
    means[:, -1] = i
    covs = np.array([np.diag([k * k] * dim_x + [1e-4]) for k in i])
    return GaussianMixtureTask(means, covs, dim_x=dim_x, name=name)


def _bmi_inliers(name: str, dim: int, fraction: float) -> GaussianMixtureTask:
    """bmi ``task_multinormal_sparse_w_inliers``: 2-pair Gaussian mixed with the product of its
    marginals (weight ``fraction``)."""
    signal = CorrelatedGaussian.two_pair(dim, dim).cov
    noise = np.eye(2 * dim)
    return GaussianMixtureTask(np.zeros((2, 2 * dim)), np.stack([signal, noise]),
                               [1.0 - fraction, fraction], dim_x=dim, name=name)


# ---- registry -----------------------------------------------------------------------------------
def _normal075() -> CorrelatedGaussian:
    return CorrelatedGaussian.from_correlations([0.75], name="1v1-normal-0.75")


def _spiral_pair(dim_y: int) -> tuple[Spiral, Spiral]:
    return Spiral(1.0 / 3.0, (0, 1)), Spiral(1.0 / 3.0, (1, 2) if dim_y >= 3 else (0, 1))


def _registry() -> dict[str, Callable[[], Task]]:
    reg: dict[str, Callable[[], Task]] = {}

    def add(name: str, make: Callable[[str], Task]) -> None:
        reg[name] = lambda: make(name)

    add("1v1-normal-0.75", lambda n: CorrelatedGaussian.from_correlations([0.75], name=n))
    for fname, f in (("uniform-margins", normal_cdf), ("half-cube", half_cube), ("cube", cube),
                     ("asinh", asinh)):
        add(f"1v1-{fname}-0.75", lambda n, f=f: TransformedTask(_normal075(), f, f, name=n))
    add("1v1-wiggly-0.75", lambda n: TransformedTask(_normal075(), wiggly_x, wiggly_y, name=n))
    add("1v1-bimodal-0.75", lambda n: TransformedTask(
        _normal075(), GaussianToMixture([0.0, 5.0], [0.3, 0.7]),
        GaussianToMixture([-1.0, 3.0], [0.5, 0.5]), name=n))
    for eps in (0.1, 0.75):
        add(f"1v1-additive-{eps:g}", lambda n, eps=eps: AdditiveUniform(eps, name=n))
    for df in (1, 2, 3, 4, 5):
        add(f"1v1-student-identity-dof{df}", lambda n, df=df: StudentT.identity(1, 1, df, name=n))
    add("1v1-asinh-student-identity-dof1",
        lambda n: TransformedTask(StudentT.identity(1, 1, 1), asinh, asinh, name=n))
    for d in (2, 3, 5, 25, 50):
        add(f"{d}v{d}-normal-dense", lambda n, d=d: CorrelatedGaussian.dense(d, d, name=n))
    for d in (2, 3, 5, 25):
        add(f"{d}v{d}-normal-2pair", lambda n, d=d: CorrelatedGaussian.two_pair(d, d, name=n))
    for d, df in ((2, 1), (2, 2), (3, 2), (3, 3), (5, 2), (5, 3)):
        add(f"{d}v{d}-student-identity-dof{df}",
            lambda n, d=d, df=df: StudentT.identity(d, d, df, name=n))
    for d in (3, 5, 25):
        add(f"{d}v{d}-normal-cdf-2pair", lambda n, d=d: TransformedTask(
            CorrelatedGaussian.two_pair(d, d), normal_cdf, normal_cdf, name=n))
        add(f"{d}v{d}-half-cube-2pair", lambda n, d=d: TransformedTask(
            CorrelatedGaussian.two_pair(d, d), half_cube, half_cube, name=n))
        add(f"{d}v{d}-spiral-normal-cdf-2pair", lambda n, d=d: TransformedTask(
            TransformedTask(CorrelatedGaussian.two_pair(d, d), normal_cdf, normal_cdf),
            *_spiral_pair(d), name=n))
    for d in (2, 3, 5, 25):
        add(f"{d}v{d}-spiral-2pair", lambda n, d=d: TransformedTask(
            CorrelatedGaussian.two_pair(d, d), *_spiral_pair(d), name=n))
    for d, df in ((2, 1), (3, 2), (5, 2)):
        add(f"{d}v{d}-asinh-student-identity-dof{df}", lambda n, d=d, df=df: TransformedTask(
            StudentT.identity(d, d, df), asinh, asinh, name=n))
    for d, kappa in ((3, 1.0), (3, 10.0), (10, 10.0)):
        add(f"sphere-vmf-d{d}-kappa{kappa:g}", lambda n, d=d, k=kappa: UniformVMF(d, k, name=n))
    add("1v1-mixture-X-0.9", _bmi_x)
    add("1v1-mixture-AI", _bmi_ai)
    add("2v1-mixture-galaxy-0.5-3", _bmi_galaxy)
    for d in (3, 5):
        add(f"{d}v1-mixture-concentric-3", lambda n, d=d: _bmi_concentric(n, d))
    for frac in (0.2, 0.5):
        add(f"5v5-mixture-2pair-inliers-{frac:g}", lambda n, f=frac: _bmi_inliers(n, 5, f))
    return reg


TASKS: dict[str, Callable[[], Task]] = _registry()
