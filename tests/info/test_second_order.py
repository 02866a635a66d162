"""Second-order estimators: Wishart bias correction, LogDet against the authors' formula,
torch versions against the numpy/mixture ones, and gradients."""
import math

import numpy as np
import pytest
import torch

from mitheory.info import (entropy_gaussian, entropy_gaussian_plugin, entropy_mixture_bounds,
                           logdet_entropy, logdet_entropy_torch, mi_gaussian, mi_gaussian_plugin,
                           mi_logdet, pairwise_entropy_torch)
from mitheory.info.tasks import CorrelatedGaussian


def test_plugin_mi_equals_closed_form_on_sample_covariance():
    task = CorrelatedGaussian.dense(2, 3)
    x, y = task.sample(500, seed=0)
    cov = np.cov(np.hstack([x, y]).T)
    # the plug-in is the closed form evaluated at the sample covariance (rounding only)
    assert mi_gaussian_plugin(x, y).value == pytest.approx(mi_gaussian(cov, 2).value, rel=1e-10)
    assert mi_gaussian_plugin(y, x).value == pytest.approx(mi_gaussian_plugin(x, y).value,
                                                           rel=1e-12)  # symmetry


def test_wishart_correction_is_unbiased_for_gaussians():
    task = CorrelatedGaussian.from_mi(0.5, 2)
    truth_mi, truth_h = task.mutual_information().value, task.entropy("xy").value
    rng = np.random.default_rng(0)
    reps = [task.sample(15, seed=rng) for _ in range(3000)]
    corr = np.array([mi_gaussian_plugin(x, y, bias_correction=True).value for x, y in reps])
    plug = np.array([mi_gaussian_plugin(x, y).value for x, y in reps])
    se = corr.std() / math.sqrt(len(reps))
    # unbiased: the replicate mean is within 4 standard errors of the truth
    assert abs(corr.mean() - truth_mi) < 4 * se
    # the ML plug-in is biased upwards at n = 15, by many standard errors
    assert plug.mean() - truth_mi > 10 * plug.std() / math.sqrt(len(reps))
    h = np.array([entropy_gaussian_plugin(np.hstack([x, y]), bias_correction=True).value
                  for x, y in reps])
    assert abs(h.mean() - truth_h) < 4 * h.std() / math.sqrt(len(reps))


def _authors_logdet(a, mode, beta):
    """floatingCatty/LogDet-entropy utils/LogDet.py, LogDet(): centre, C, 0.5 logdet(I + beta C),
    Pearson denominators with their + 1e-8 (re-typed from the dossier's description)."""
    a = torch.as_tensor(a, dtype=torch.float64)
    a = a - a.mean(0, keepdim=True)
    if mode == "pearson":
        c = a.T @ a / (a.norm(dim=0)[:, None] @ a.norm(dim=0)[None, :] + 1e-8)
    else:
        c = a.T @ a / a.shape[0]
    return float(torch.logdet(torch.eye(a.shape[1], dtype=torch.float64) + beta * c) / 2)


@pytest.mark.parametrize("method", ["cov", "pearson"])
@pytest.mark.parametrize("n,d", [(200, 5), (6, 10)])
def test_logdet_entropy_against_authors_formula_and_torch(method, n, d):
    x = np.random.default_rng(n + d).standard_normal((n, d)) * np.arange(1, d + 1)
    beta = 3.0
    ours = logdet_entropy(x, beta=beta, method=method).value
    # the authors' 1e-8 in the Pearson denominator shifts the value by O(beta * 1e-8 / norm^2)
    assert ours == pytest.approx(_authors_logdet(x, method, beta), rel=1e-8)
    tor = logdet_entropy_torch(torch.as_tensor(x), beta=beta, method=method, eps=0.0)
    assert float(tor) == pytest.approx(ours, rel=1e-10)  # same formula in torch float64


def test_logdet_mi_tends_to_gaussian_plugin():
    x, y = CorrelatedGaussian.two_pair(3, 3).sample(400, seed=1)
    plug = mi_gaussian_plugin(x, y).value
    for method in ("cov", "pearson"):
        big = mi_logdet(x, y, beta=1e9, method=method).value
        # log beta terms cancel; the remainder is O(1 / (beta * smallest eigenvalue))
        assert big == pytest.approx(plug, abs=1e-6)
    default = mi_logdet(x, y)
    assert default.details["beta"] == 600.0  # 100 (d_x + d_y), the authors' choice


@pytest.mark.parametrize("method,key", [("kl", "kl_upper"),
                                        ("bhattacharyya", "bhattacharyya_lower")])
def test_pairwise_entropy_torch_matches_mixture_bounds(method, key):
    z = np.random.default_rng(3).standard_normal((120, 4))
    for sigma in (0.3, 1.0):
        ref = entropy_mixture_bounds(z, sigma**2, methods=(key,))[key].value
        got = pairwise_entropy_torch(torch.as_tensor(z), method=method, sigma=sigma)
        assert float(got) == pytest.approx(ref, rel=1e-10)  # float64: same sums, other order


def test_torch_versions_are_differentiable():
    z = torch.randn(7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0),
                    requires_grad=True)
    # finite differences vs autograd (gradcheck's own tolerances, float64)
    assert torch.autograd.gradcheck(lambda t: pairwise_entropy_torch(t, sigma=0.7), (z,))
    assert torch.autograd.gradcheck(
        lambda t: pairwise_entropy_torch(t, method="bhattacharyya", sigma=0.7), (z,))
    assert torch.autograd.gradcheck(lambda t: logdet_entropy_torch(t, beta=2.0), (z,))
    assert torch.autograd.gradcheck(lambda t: logdet_entropy_torch(t, method="pearson"), (z,))
    dup = torch.zeros(4, 2, dtype=torch.float64, requires_grad=True)
    pairwise_entropy_torch(dup).backward()  # coincident points: finite gradient (no sqrt)
    assert torch.isfinite(dup.grad).all()


def test_gaussian_plugin_entropy_close_to_truth_and_bits():
    cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    x = np.random.default_rng(5).multivariate_normal([0, 0], cov, size=20_000)
    h = entropy_gaussian_plugin(x, bias_correction=True)
    # sd of the estimate ~ sqrt(d / (2 n)) = 0.007 nats at n = 20000; 0.03 ~ 4 sd
    assert h.value == pytest.approx(entropy_gaussian(cov).value, abs=0.03)
    assert entropy_gaussian_plugin(x, unit="bits").value == pytest.approx(
        entropy_gaussian_plugin(x).value / math.log(2), rel=1e-14)


def test_bad_inputs_name_the_argument():
    x = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(ValueError, match=r"sample covariance of \(x, y\) is singular"):
        mi_gaussian_plugin(x[:4], x[:4, :2] + 1.0)
    with pytest.raises(ValueError, match=r"x has zero-variance column\(s\) \[0\]"):
        mi_gaussian_plugin(np.c_[np.ones(10), x[:, 1]], x)
    with pytest.raises(ValueError, match="beta must be > 0"):
        logdet_entropy(x, beta=0.0)
    with pytest.raises(ValueError, match="method must be one of"):
        pairwise_entropy_torch(torch.zeros(3, 2), method="renyi")
    with pytest.raises(ValueError, match="z is not finite"):
        logdet_entropy_torch(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    with pytest.raises(TypeError, match="z must be a torch.Tensor"):
        pairwise_entropy_torch(np.zeros((3, 2)))
