"""Gaussian-mixture entropy: bounds and Monte Carlo against closed forms, quadrature and a slow twin."""
import math
import tracemalloc

import numpy as np
import pytest
from scipy import integrate, stats

from mitheory.info import (entropy_gaussian, entropy_mixture_bounds, entropy_mixture_mc,
                           mi_gaussian, mi_mixture_mc)

ALL = ("kl_upper", "bhattacharyya_lower", "chernoff_lower", "elk_lower", "moment_upper",
       "conditional_lower", "label_upper")


def _random_covs(n, d, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d, d)) * 0.6
    return a @ np.swapaxes(a, 1, 2) + 0.2 * np.eye(d)


def _entropy_1d_quadrature(w, mu, var):
    pdf = lambda z: float(np.sum(w * stats.norm.pdf(z, mu, np.sqrt(var))))  # noqa: E731
    f = lambda z: -pdf(z) * math.log(pdf(z)) if pdf(z) > 0 else 0.0  # noqa: E731
    lo, hi = mu.min() - 15 * np.sqrt(var.max()), mu.max() + 15 * np.sqrt(var.max())
    return integrate.quad(f, lo, hi, points=list(mu), epsabs=1e-12, epsrel=1e-12, limit=400)[0]


def _kt_reference(w, mu, var, dist):
    """Kolchinsky-Tracey estimator from a matrix of pairwise divergences (1-D, by quadrature)."""
    h_cond = float(np.sum(w * 0.5 * np.log(2 * math.pi * math.e * var)))
    n = len(w)
    dmat = np.array([[dist(i, j) for j in range(n)] for i in range(n)])
    return h_cond - float(np.sum(w * np.log(np.exp(-dmat) @ w)))


def test_one_component_is_exact():
    cov = _random_covs(1, 3, 0)
    b = entropy_mixture_bounds([[1.0, -2.0, 0.5]], cov, methods=ALL)
    h = entropy_gaussian(cov[0]).value
    # every pairwise/moment bound is exact for one component (rounding only)
    for m in ("kl_upper", "bhattacharyya_lower", "chernoff_lower", "moment_upper",
              "conditional_lower", "label_upper"):
        assert b[m].value == pytest.approx(h, rel=1e-12), m
    # ELK for one component: -log N(mu; mu, 2S) = H - (d/2)(1 - log 2), a strict lower bound
    assert b["elk_lower"].value == pytest.approx(h - 1.5 * (1 - math.log(2)), rel=1e-12)
    assert b["kl_upper"].kind == "upper_bound" and b["elk_lower"].kind == "lower_bound"


def test_pairwise_terms_against_1d_quadrature():
    w, mu, var = np.array([0.2, 0.5, 0.3]), np.array([-2.0, 0.0, 1.5]), np.array([0.5, 1.0, 2.0])
    alpha = 0.3
    sd = np.sqrt(var)

    class _P:  # explicit normal pdf/logpdf (scipy's frozen objects are slow inside quad)
        def __init__(self, k):
            self.m, self.s = mu[k], sd[k]

        def logpdf(self, z):
            return -0.5 * ((z - self.m) / self.s) ** 2 - math.log(self.s * math.sqrt(2 * math.pi))

        def pdf(self, z):
            return math.exp(self.logpdf(z))
    p = [_P(k) for k in range(3)]

    def quad(f):
        return integrate.quad(f, -40, 40, points=list(mu), epsabs=1e-13, limit=400)[0]

    kl = lambda i, j: quad(lambda z: p[i].pdf(z) * (p[i].logpdf(z) - p[j].logpdf(z)))  # noqa
    ch = lambda i, j: -math.log(quad(lambda z: p[i].pdf(z) ** alpha * p[j].pdf(z) ** (1 - alpha)))  # noqa
    elk = -float(np.sum(w * np.log(np.array(
        [[quad(lambda z: p[i].pdf(z) * p[j].pdf(z)) for j in range(3)] for i in range(3)]) @ w)))
    b = entropy_mixture_bounds(mu[:, None], var, w, methods=ALL, alpha=alpha)
    # quadrature at epsabs 1e-13 on O(1) integrands: agreement to ~1e-10
    assert b["kl_upper"].value == pytest.approx(_kt_reference(w, mu, var, kl), abs=1e-9)
    assert b["chernoff_lower"].value == pytest.approx(_kt_reference(w, mu, var, ch), abs=1e-9)
    assert b["elk_lower"].value == pytest.approx(elk, abs=1e-9)
    exact = _entropy_1d_quadrature(w, mu, var)
    for m in ALL:  # lower <= exact <= upper, exact by quadrature (1e-10)
        if m.endswith("_lower"):
            assert b[m].value <= exact + 1e-10, m
        else:
            assert b[m].value >= exact - 1e-10, m


def _slow_twin(means, covs, w, alpha):
    """Per-pair loops with explicit inverses and slogdets (obviously correct, O(N^2) Python)."""
    n, d = means.shape
    ld = [np.linalg.slogdet(c)[1] for c in covs]
    h_cond = sum(w[i] * 0.5 * (d * math.log(2 * math.pi * math.e) + ld[i]) for i in range(n))
    res = {}
    for name in ("kl_upper", "chernoff_lower", "elk_lower"):
        acc = 0.0
        for i in range(n):
            s = 0.0
            for j in range(n):
                dl = means[i] - means[j]
                if name == "kl_upper":
                    pj = np.linalg.inv(covs[j])
                    dist = 0.5 * (np.trace(pj @ covs[i]) + dl @ pj @ dl - d + ld[j] - ld[i])
                    s += w[j] * math.exp(-dist)
                elif name == "chernoff_lower":
                    sa = (1 - alpha) * covs[i] + alpha * covs[j]
                    dist = (0.5 * alpha * (1 - alpha) * dl @ np.linalg.solve(sa, dl)
                            + 0.5 * (np.linalg.slogdet(sa)[1] - (1 - alpha) * ld[i] - alpha * ld[j]))
                    s += w[j] * math.exp(-dist)
                else:
                    s += w[j] * stats.multivariate_normal(means[j], covs[i] + covs[j]).pdf(means[i])
            acc += w[i] * math.log(s)
        res[name] = -acc if name == "elk_lower" else h_cond - acc
    return res


@pytest.mark.parametrize("chunk_size", [None, 1, 5])
def test_full_covariances_match_slow_twin(chunk_size):
    rng = np.random.default_rng(1)
    n, d = 9, 3
    means, covs = rng.standard_normal((n, d)) * 1.5, _random_covs(n, d, 2)
    w = rng.dirichlet(np.ones(n))
    b = entropy_mixture_bounds(means, covs, w, methods=ALL, alpha=0.3, chunk_size=chunk_size)
    ref = _slow_twin(means, covs, w, 0.3)
    for m, v in ref.items():  # same formulas, different float paths: 1e-10
        assert b[m].value == pytest.approx(v, rel=1e-10, abs=1e-10), m


def test_representations_agree():
    rng = np.random.default_rng(3)
    n, d, s = 40, 4, 0.7
    means = rng.standard_normal((n, d))
    forms = [s, np.full(n, s), np.stack([s * np.eye(d)] * n), s * np.eye(d)]
    vals = [entropy_mixture_bounds(means, c, methods=ALL, alpha=0.3) for c in forms]
    for other in vals[1:]:  # isotropic / per-component / full / shared: same numbers (1e-10)
        for m in ALL:
            assert other[m].value == pytest.approx(vals[0][m].value, rel=1e-10), m
    shared = _random_covs(1, d, 4)[0]
    a = entropy_mixture_bounds(means, shared, methods=ALL)
    b = entropy_mixture_bounds(means, np.stack([shared] * n), methods=ALL)
    for m in ALL:  # whitening a shared covariance vs the full path (1e-10)
        assert a[m].value == pytest.approx(b[m].value, rel=1e-10), m


def test_chunking_and_heteroscedastic_isotropic_paths():
    rng = np.random.default_rng(5)
    means, var = rng.standard_normal((50, 3)), rng.uniform(0.2, 2.0, 50)
    ref = entropy_mixture_bounds(means, var, methods=ALL)
    full = entropy_mixture_bounds(means, var[:, None, None] * np.eye(3), methods=ALL)
    for cs in (1, 7, 64):
        got = entropy_mixture_bounds(means, var, methods=ALL, chunk_size=cs)
        for m in ALL:  # blocking changes only summation order (1e-12)
            assert got[m].value == pytest.approx(ref[m].value, rel=1e-12), m
    for m in ALL:  # isotropic (N,) variances vs the same as full matrices (1e-10)
        assert full[m].value == pytest.approx(ref[m].value, rel=1e-10), m


def test_far_apart_components_attain_the_label_bound():
    means = np.array([[0.0, 0.0], [1e3, 0.0], [0.0, 1e3]])
    w = np.array([0.5, 0.25, 0.25])
    b = entropy_mixture_bounds(means, 1.0, w, methods=ALL)
    # exp(-D) underflows to exactly 0: both pairwise bounds equal H(Z|C) + H(C)
    for m in ("kl_upper", "bhattacharyya_lower"):
        assert b[m].value == pytest.approx(b["label_upper"].value, rel=1e-14)


@pytest.mark.parametrize("seed", range(4))
def test_bounds_bracket_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    n, d = 6, 2
    means, covs = rng.standard_normal((n, d)) * 1.2, _random_covs(n, d, 10 + seed)
    w = rng.dirichlet(np.ones(n))
    b = entropy_mixture_bounds(means, covs, w, methods=ALL)
    mc = entropy_mixture_mc(means, covs, w, n_samples=60_000, seed=seed)
    slack = 4 * mc.details["stderr"]  # 4 standard errors of the MC reference
    for m in ALL:
        if m.endswith("_lower"):
            assert b[m].value <= mc.value + slack, m
        else:
            assert b[m].value >= mc.value - slack, m


def test_monte_carlo_one_gaussian_and_units():
    cov = _random_covs(1, 3, 7)
    h = entropy_gaussian(cov[0]).value
    mc = entropy_mixture_mc([[0.0, 1.0, 2.0]], cov, n_samples=50_000, seed=0)
    assert mc.kind == "estimate" and mc.n_samples == 50_000
    assert mc.details["ci_low"] < h < mc.details["ci_high"]
    # half-width = z_{0.975} * stderr
    half = mc.details["ci_high"] - mc.value
    assert half == pytest.approx(1.959963984540054 * mc.details["stderr"], rel=1e-12)
    bits = entropy_mixture_mc([[0.0, 1.0, 2.0]], cov, n_samples=50_000, seed=0, unit="bits")
    for key in ("ci_low", "ci_high", "stderr"):  # details convert with the value
        assert bits.details[key] == pytest.approx(mc.details[key] / math.log(2), rel=1e-14)
    b = entropy_mixture_bounds([[0.0], [1.0]], 1.0, unit="bits")
    nats = entropy_mixture_bounds([[0.0], [1.0]], 1.0)
    assert b["kl_upper"].value == pytest.approx(nats["kl_upper"].value / math.log(2), rel=1e-14)


def test_mi_mixture_mc_gaussian_and_x_task():
    cov = np.array([[1.0, 0.6], [0.6, 1.0]])
    est = mi_mixture_mc([[0.0, 0.0]], cov[None], dim_x=1, n_samples=40_000, seed=1)
    # one component: the Gaussian MI, within 4 standard errors
    assert abs(est.value - mi_gaussian(cov, 1).value) < 4 * est.details["stderr"]
    covs = np.array([[[1.0, -0.9], [-0.9, 1.0]], [[1.0, 0.9], [0.9, 1.0]]])
    norm_c = 1.0 / (2 * math.pi * math.sqrt(1 - 0.81))

    def pmi(y, x):  # p log p / (p_x p_y) for the equal mixture of corr -0.9 and +0.9
        p = 0.5 * norm_c * sum(math.exp(-(x * x - 2 * r * x * y + y * y) / (2 * (1 - 0.81)))
                               for r in (-0.9, 0.9))
        return p * math.log(p * 2 * math.pi / math.exp(-(x * x + y * y) / 2)) if p > 0 else 0.0
    ref = integrate.dblquad(pmi, -8, 8, -8, 8, epsabs=1e-8)[0]
    est = mi_mixture_mc(np.zeros((2, 2)), covs, dim_x=1, n_samples=40_000, seed=2)
    assert abs(est.value - ref) < 4 * est.details["stderr"] + 1e-6  # MC se + quadrature error


def test_zero_weight_component_is_ignored():
    rng = np.random.default_rng(8)
    means, var = rng.standard_normal((4, 2)), rng.uniform(0.5, 1.5, 4)
    w = np.array([0.3, 0.0, 0.3, 0.4])
    a = entropy_mixture_bounds(means, var, w, methods=ALL)
    keep = w > 0
    b = entropy_mixture_bounds(means[keep], var[keep], w[keep], methods=ALL)
    for m in ALL:  # exp(log 0) = 0 exactly; only summation order differs
        assert a[m].value == pytest.approx(b[m].value, rel=1e-12), m


def test_large_isotropic_mixture_memory_is_bounded():
    x = np.random.default_rng(9).standard_normal((4000, 16))
    tracemalloc.start()
    entropy_mixture_bounds(x, 0.5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # one dense 4000 x 4000 float64 matrix would be 128 MB; blocks are 8 MB (measured ~41 MB)
    assert peak < 64 * 2**20


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="means contains 1 NaN"):
        entropy_mixture_bounds([[0.0], [np.nan]], 1.0)
    with pytest.raises(ValueError, match=r"covs\[1\] is not positive definite"):
        entropy_mixture_bounds(np.zeros((2, 2)), np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]))
    with pytest.raises(ValueError, match=r"covs\[0\] must be a variance > 0"):
        entropy_mixture_bounds(np.zeros((2, 2)), [-1.0, 1.0])
    with pytest.raises(ValueError, match="covs must have shape"):
        entropy_mixture_bounds(np.zeros((2, 2)), np.stack([np.eye(3)] * 2))
    with pytest.raises(ValueError, match="weights must sum to 1"):
        entropy_mixture_bounds(np.zeros((2, 1)), 1.0, [0.5, 0.6])
    with pytest.raises(ValueError, match="methods must be one of"):
        entropy_mixture_bounds(np.zeros((2, 1)), 1.0, methods=("kl",))
    with pytest.raises(ValueError, match="n_samples must be >= 2"):
        entropy_mixture_mc(np.zeros((2, 1)), 1.0, n_samples=1)
