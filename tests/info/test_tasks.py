"""Tasks with known truth: sampler/ground-truth consistency against independent computations."""
import math

import numpy as np
import pytest
from scipy import integrate, stats

from mitheory.info import mi_gaussian
from mitheory.info.tasks import (TASKS, AdditiveUniform, CorrelatedGaussian, GaussianToMixture,
                                 Spiral, StudentT, TransformedTask, UniformVMF, wiggly_x, wiggly_y)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_samples_and_knows_its_mi(name):
    task = TASKS[name]()
    assert task.name == name
    x, y = task.sample(50, seed=3)
    assert x.shape == (50, task.dim_x) and y.shape == (50, task.dim_y)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    x2, y2 = task.sample(50, seed=3)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)  # same seed, same draw
    mi = task.mutual_information()
    assert mi.unit == "nats" and mi.value >= 0.0
    # bits = nats / ln 2
    assert task.mutual_information(unit="bits").value == pytest.approx(mi.value / math.log(2))


@pytest.mark.parametrize("mi,dim", [(0.0, 1), (0.5, 1), (2.0, 3), (10.0, 5)])
def test_correlated_gaussian_from_mi(mi, dim):
    task = CorrelatedGaussian.from_mi(mi, dim)
    # inverse of the closed form: exact up to rounding
    assert task.mutual_information().value == pytest.approx(mi, abs=1e-12, rel=1e-12)


def test_correlated_gaussian_sample_covariance():
    task = CorrelatedGaussian.dense(2, 3)
    x, y = task.sample(40_000, seed=0)
    emp = np.cov(np.hstack([x, y]).T)
    # entries of a sample covariance of unit-variance data: sd ~ sqrt(2/n) = 0.007; 6 sd
    assert np.abs(emp - task.cov).max() < 0.045
    assert task.entropy("x").value == pytest.approx(
        stats.multivariate_normal(cov=task.cov[:2, :2]).entropy(), rel=1e-12)


@pytest.mark.parametrize("df", [1, 2, 3, 5])
def test_student_t_mi_against_scipy_entropies(df):
    strength = 0.75
    disp = np.array([[1.0, strength], [strength, 1.0]])
    task = StudentT(disp, 1, df)
    h_joint = stats.multivariate_t(shape=disp, df=df).entropy()
    h_marg = stats.t(df).entropy()
    # I = h(X) + h(Y) - h(X, Y) from scipy's independent closed forms
    assert task.mutual_information().value == pytest.approx(2 * h_marg - h_joint, abs=1e-10)
    assert task.entropy("xy").value == pytest.approx(h_joint, abs=1e-10)
    assert task.entropy("x").value == pytest.approx(h_marg, abs=1e-10)


def test_student_t_sampler_marginal_cdf():
    task = StudentT.identity(2, 1, 3)
    x, _ = task.sample(20_000, seed=1)
    q = stats.t(3).ppf(0.9)
    frac = np.mean(x[:, 0] <= q)
    # empirical CDF at the 0.9 quantile: sd sqrt(0.09 / n) = 0.0021; 5 sd
    assert frac == pytest.approx(0.9, abs=0.011)


@pytest.mark.parametrize("eps", [0.1, 0.5, 0.75, 2.0])
def test_additive_uniform_mi_by_quadrature(eps):
    def p_y(y):  # density of U(0,1) + U(-eps, eps): overlap length / (2 eps)
        return max(0.0, min(1.0, y + eps) - max(0.0, y - eps)) / (2 * eps)
    pts = sorted({-eps, eps, 1 - eps, 1 + eps})
    h_y = -integrate.quad(lambda y: p_y(y) * math.log(p_y(y)) if p_y(y) > 0 else 0.0,
                          -eps, 1 + eps, points=pts[1:-1], epsabs=1e-13)[0]
    task = AdditiveUniform(eps)
    # I = h(Y) - log(2 eps); quadrature of a piecewise-smooth integrand: 1e-10
    assert task.mutual_information().value == pytest.approx(h_y - math.log(2 * eps), abs=1e-10)
    assert task.entropy("y").value == pytest.approx(h_y, abs=1e-10)


def test_uniform_vmf_pairs():
    task = UniformVMF(3, 10.0)
    x, y = task.sample(20_000, seed=2)
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0)
    # Y is marginally uniform: mean of each coordinate ~ 0 (sd 1/sqrt(3 n) = 0.004); 5 sd
    assert np.abs(y.mean(axis=0)).max() < 0.02
    # d = 3 closed form: I = log(4 pi) - H(vMF), H = 1 - log(k / (4 pi sinh k)) - k coth k
    k = 10.0
    h_vmf = 1.0 - math.log(k / (4 * math.pi * math.sinh(k))) - k / math.tanh(k)
    assert task.mutual_information().value == pytest.approx(math.log(4 * math.pi) - h_vmf,
                                                            rel=1e-12)


def test_marginal_maps_are_increasing_and_invertible():
    grid = np.linspace(-6, 6, 20_001)
    for f in (wiggly_x, wiggly_y, GaussianToMixture([0.0, 5.0], [0.3, 0.7])):
        assert np.all(np.diff(f(grid)) > 0), f
    sp = Spiral(1.0 / 3.0, (0, 1))
    z = np.random.default_rng(0).standard_normal((100, 3))
    out = sp(z)
    assert np.allclose(np.linalg.norm(out, axis=1), np.linalg.norm(z, axis=1))
    back = Spiral(-1.0 / 3.0, (0, 1))(out)  # the norm is kept, so the inverse is the -speed spiral
    assert np.allclose(back, z, atol=1e-12)


def test_gaussian_to_mixture_has_the_mixture_law():
    f = GaussianToMixture([-1.0, 3.0], [0.5, 0.5])
    out = f(np.random.default_rng(4).standard_normal(40_000))
    target = 0.5 * stats.norm.cdf(1.0 + 1.0) + 0.5 * stats.norm.cdf(1.0 - 3.0)
    # empirical CDF at t = 1: sd <= 0.5 / sqrt(n) = 0.0025; 5 sd
    assert np.mean(out <= 1.0) == pytest.approx(target, abs=0.0125)


def test_transformed_task_keeps_base_mi():
    base = CorrelatedGaussian.two_pair(3, 3)
    task = TransformedTask(base, np.tanh, np.arcsinh)
    assert task.mutual_information().value == mi_gaussian(base.cov, 3).value
    with pytest.raises(NotImplementedError):
        task.entropy()


def test_task_bad_inputs():
    with pytest.raises(ValueError, match="cov_joint is not positive definite"):
        CorrelatedGaussian([[1.0, 1.5], [1.5, 1.0]], 1)
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        AdditiveUniform(0.0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        CorrelatedGaussian.dense(1, 1).sample(0, seed=0)
    with pytest.raises(ValueError, match="which must be one of"):
        CorrelatedGaussian.dense(1, 1).entropy("z")
