"""Tests of the variational MI bounds: hand computations, closed forms, and trained critics."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mitheory._types import InfoValue
from mitheory.info import entropy_knn
from mitheory.info._er_bound import (LOG_SD_MIN, ERBoundEstimator, GaussianDecoder, VMFDecoder,
                                     er_lower_bound, mi_lower_bound_er)
from mitheory.info._variational import (ConcatCritic, SeparableCritic, VariationalMIEstimator,
                                        dv_lower_bound, infonce_lower_bound, mine_surrogate_loss,
                                        nwj_lower_bound)

RHO = 0.8


def correlated_gaussian(n, dim, rho, seed):
    """x ~ N(0, I), y = rho x + sqrt(1 - rho^2) eps: I(X;Y) = -dim/2 log(1 - rho^2)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    return x, rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, dim))


def gaussian_mi(dim, rho):
    return -0.5 * dim * math.log(1 - rho**2)


def gaussian_entropy(dim):
    return 0.5 * dim * math.log(2 * math.pi * math.e)


def vmf_pairs(n, kappa, seed):
    """x uniform on S^2, y ~ vMF(x, kappa) (Wood 1994 in d = 3, closed-form inverse CDF for w)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    u = rng.uniform(size=n)
    w = 1 + np.log(u + (1 - u) * np.exp(-2 * kappa)) / kappa  # cos angle to the mean
    v = rng.normal(size=(n, 3))
    v -= (v * x).sum(1, keepdims=True) * x
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return x, w[:, None] * x + np.sqrt(1 - w**2)[:, None] * v


def vmf_mi(kappa):
    """I = log 4 pi + log C_3(k) + k E[w], E[w] = coth k - 1/k, C_3(k) = k / (4 pi sinh k)."""
    return math.log(kappa) - math.log(math.sinh(kappa)) + kappa / math.tanh(kappa) - 1


# ---- score-function bounds against a hand computation ----------------------------------------

S3 = torch.tensor([[1.0, -0.5, 0.2], [0.3, 2.0, -1.0], [0.0, 0.7, 1.5]], dtype=torch.float64)


def _hand(scores):
    s = scores.numpy()
    n = len(s)
    joint = sum(s[i, i] for i in range(n)) / n
    off = [math.exp(s[i, j]) for i in range(n) for j in range(n) if i != j]
    nce = sum(s[i, i] - math.log(sum(math.exp(s[i, j]) for j in range(n)) / n)
              for i in range(n)) / n
    return nce, joint - sum(off) / len(off) / math.e, joint - math.log(sum(off) / len(off))


def test_score_bounds_match_hand_computation_on_3x3():
    nce, nwj, dv = _hand(S3)
    # float64 arithmetic on 3x3 numbers: agreement to rounding
    assert float(infonce_lower_bound(S3)) == pytest.approx(nce, abs=1e-12)
    assert float(nwj_lower_bound(S3)) == pytest.approx(nwj, abs=1e-12)
    assert float(dv_lower_bound(S3)) == pytest.approx(dv, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), scale=st.floats(0.01, 50.0), seed=st.integers(0, 2**31))
def test_infonce_never_exceeds_log_batch(n, scale, seed):
    g = torch.Generator().manual_seed(seed)
    scores = scale * torch.randn(n, n, generator=g, dtype=torch.float64)
    scores += 3 * scale * torch.eye(n, dtype=torch.float64)  # favour the diagonal
    # log-softmax of the diagonal is <= 0, so the bound is <= log n exactly (rounding only)
    assert float(infonce_lower_bound(scores)) <= math.log(n) + 1e-12


def test_infonce_reaches_log_batch_for_a_perfect_critic():
    # scores = 100 I: off-diagonal mass e^-100 relative, so the bound is log 3 to ~1e-43
    assert float(infonce_lower_bound(100 * torch.eye(3, dtype=torch.float64))) == pytest.approx(
        math.log(3), abs=1e-12)


@pytest.mark.parametrize("fn", [infonce_lower_bound, nwj_lower_bound, dv_lower_bound])
def test_score_bounds_reject_bad_input(fn):
    with pytest.raises(ValueError, match="square"):
        fn(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="at least 2"):
        fn(torch.zeros(1, 1))
    with pytest.raises(ValueError, match="not finite"):
        fn(torch.tensor([[0.0, math.nan], [0.0, 0.0]]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        fn(np.zeros((3, 3)))


def test_mine_gradient_uses_the_moving_average_denominator():
    s = S3.clone().requires_grad_(True)
    n, alpha, m_prev = 3, 0.1, 2.5
    loss, log_ema = mine_surrogate_loss(s, torch.tensor(math.log(m_prev), dtype=torch.float64),
                                        ema_rate=alpha)
    loss.backward()
    e = torch.exp(S3)
    off_mean = float((e.sum() - e.diagonal().sum()) / (n * (n - 1)))
    m_new = (1 - alpha) * m_prev + alpha * off_mean
    expected = e / (n * (n - 1)) / m_new  # Belghazi et al. Eq. 12 with the EMA denominator
    expected.fill_diagonal_(-1.0 / n)
    # float64 hand formula vs autograd
    assert float(log_ema) == pytest.approx(math.log(m_new), abs=1e-12)
    assert torch.allclose(s.grad, expected, atol=1e-12, rtol=0)


def test_mine_first_step_gradient_equals_dv_gradient():
    s1, s2 = S3.clone().requires_grad_(True), S3.clone().requires_grad_(True)
    mine_surrogate_loss(s1, None)[0].backward()
    (-dv_lower_bound(s2)).backward()
    # with the EMA initialised at the batch mean the correction is the plain DV gradient
    assert torch.allclose(s1.grad, s2.grad, atol=1e-12, rtol=0)


# ---- decoders (log Bessel and the vMF normaliser: tests/test_special.py) -----------------------

def test_gaussian_decoder_log_prob_matches_scipy():
    dec = GaussianDecoder(2, 2, hidden=(), covariance="diagonal").double()
    with torch.no_grad():
        f64 = dict(dtype=torch.float64)
        dec.net[0].weight.copy_(torch.tensor([[0.5, 0], [0, -1.0], [0, 0], [0.2, 0]], **f64))
        dec.net[0].bias.copy_(torch.tensor([0.1, 0.0, math.log(0.5), 0.0], **f64))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    mu = np.stack([0.5 * x[:, 0] + 0.1, -x[:, 1]], 1)
    sd = np.stack([np.full(5, 0.5), np.exp(0.2 * x[:, 0])], 1)
    ref = stats.norm.logpdf(y, mu, sd).sum(1)
    got = dec.log_prob(torch.from_numpy(x), torch.from_numpy(y)).detach().numpy()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)  # float64 closed form


def test_gaussian_decoder_log_sd_is_floored_where_the_net_extrapolates():
    # a log-sd output of -200 (an x far outside the training range): float32 log q was -inf;
    # with the floor it is the closed form at sd = exp(LOG_SD_MIN), in float64 for reference
    dec = GaussianDecoder(1, 1, hidden=(), covariance="diagonal")
    with torch.no_grad():
        dec.net[0].weight.copy_(torch.tensor([[0.0], [-1.0]]))
        dec.net[0].bias.zero_()
    x, y = torch.tensor([[200.0], [0.5]]), torch.tensor([[1.0], [1.0]])
    got = dec.log_prob(x, y)
    assert torch.isfinite(got).all()
    ref = stats.norm.logpdf(1.0, 0.0, [math.exp(LOG_SD_MIN), math.exp(-0.5)])
    np.testing.assert_allclose(got.detach().numpy(), ref, rtol=1e-6)  # float32 vs float64
    assert LOG_SD_MIN == pytest.approx(math.log(np.finfo(np.float32).eps))
    # the floor passes no gradient below it, and the usual gradient above it
    x.requires_grad_(True)
    dec.log_prob(x, y).sum().backward()
    assert dec.net[0].weight.grad is not None and x.grad[0, 0] == 0 and x.grad[1, 0] != 0


def test_vmf_decoder_log_prob_matches_closed_form_d3():
    dec = VMFDecoder(3, 3, hidden=()).double()
    with torch.no_grad():
        dec.net[0].weight.copy_(torch.eye(3, dtype=torch.float64))
        dec.net[0].bias.zero_()
        dec.log_kappa.fill_(math.log(4.0))
    x, y = vmf_pairs(6, 4.0, seed=1)
    ref = math.log(4.0) - math.log(4 * math.pi * math.sinh(4.0)) + 4.0 * (x * y).sum(1)
    got = dec.log_prob(torch.from_numpy(x), torch.from_numpy(y)).detach().numpy()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)  # float64 closed form


def test_critics_shapes_and_concat_against_a_loop():
    torch.manual_seed(0)
    x, y = torch.randn(4, 2), torch.randn(5, 3)
    sep, cat = SeparableCritic(2, 3), ConcatCritic(2, 3)
    assert torch.allclose(sep(x, y), sep.g(x) @ sep.h(y).T)
    loop = torch.stack([torch.stack([cat.f(torch.cat([xi, yj]))[0] for yj in y]) for xi in x])
    assert torch.allclose(cat(x, y), loop, atol=1e-6)  # float32 rounding


# ---- ER bound with closed-form decoders (C1) ---------------------------------------------------

def _cond_log_q(dim, rho, *, shrink=1.0, sd_factor=1.0):
    sd = math.sqrt(1 - rho**2) * sd_factor
    return lambda a, b: stats.norm.logpdf(b, shrink * rho * a, sd).sum(1)


def test_er_bound_with_the_optimal_decoder_equals_the_true_mi():
    dim, n = 2, 4000
    x, y = correlated_gaussian(n, dim, RHO, seed=0)
    v = mi_lower_bound_er(x, y, log_q=_cond_log_q(dim, RHO), entropy_y=gaussian_entropy(dim),
                          true_mi=gaussian_mi(dim, RHO))
    assert v.kind == "lower_bound" and v.details["entropy_y_source"].startswith("given")
    # q = p(y|x): the bound is I(X;Y) up to Monte Carlo error; 4 se ~ 6e-5 false-failure rate
    assert abs(v.value - gaussian_mi(dim, RHO)) < 4 * v.details["se_nats"]
    assert v.details["true_mi_nats"] == pytest.approx(gaussian_mi(dim, RHO))


@pytest.mark.parametrize("shrink, sd_factor", [(0.5, 1.0), (1.0, 2.0)])
def test_er_bound_worse_decoder_is_lower_by_the_expected_kl(shrink, sd_factor):
    dim, n = 2, 4000
    x, y = correlated_gaussian(n, dim, RHO, seed=1)
    h = gaussian_entropy(dim)
    opt, bad = _cond_log_q(dim, RHO), _cond_log_q(dim, RHO, shrink=shrink, sd_factor=sd_factor)
    v_opt = mi_lower_bound_er(x, y, log_q=opt, entropy_y=h)
    v_bad = mi_lower_bound_er(x, y, log_q=bad, entropy_y=h)
    # gap = E_x KL(N(rho x, s^2) || N(a rho x, (f s)^2)) per dim, E x^2 = 1
    s2 = 1 - RHO**2
    kl = dim * (math.log(sd_factor) + (s2 + (1 - shrink) ** 2 * RHO**2) / (2 * sd_factor**2 * s2)
                - 0.5)
    diff = opt(x, y) - bad(x, y)
    se = diff.std(ddof=1) / math.sqrt(n)
    assert v_bad.value < v_opt.value
    assert v_opt.value - v_bad.value == pytest.approx(kl, abs=4 * se)  # Monte Carlo error


def test_er_bound_entropy_estimate_gives_kind_estimate_and_bits():
    x, y = correlated_gaussian(500, 1, RHO, seed=2)
    h_est = InfoValue(gaussian_entropy(1), "nats", "estimate", "some_estimator",
                      details={"se_nats": 0.01})
    v = mi_lower_bound_er(x, y, log_q=_cond_log_q(1, RHO), entropy_y=h_est)
    assert v.kind == "estimate" and "why_estimate" in v.details
    assert v.details["entropy_y_source"] == "estimate:some_estimator"
    b = mi_lower_bound_er(x, y, log_q=_cond_log_q(1, RHO), entropy_y=h_est, unit="bits")
    assert b.value == pytest.approx(v.value / math.log(2), rel=1e-12)  # unit conversion only


def test_er_bound_estimates_h_y_with_kozachenko_leonenko_when_not_given():
    x, y = correlated_gaussian(1000, 2, RHO, seed=4)
    v = mi_lower_bound_er(x, y, log_q=_cond_log_q(2, RHO), k=4, seed=5)
    h = entropy_knn(y, k=4, seed=5)
    assert v.kind == "estimate" and v.details["entropy_y_source"] == f"estimate:{h.method}"
    # the same deterministic kNN computation on the same data and seed
    assert v.details["entropy_y_nats"] == h.value
    assert v.value == pytest.approx(h.value + v.details["reconstruction_nats"], abs=1e-12)


def test_er_bound_input_errors():
    x, y = correlated_gaussian(50, 1, RHO, seed=3)
    with pytest.raises(ValueError, match="shape"):
        mi_lower_bound_er(x, y, log_q=lambda a, b: np.zeros(3), entropy_y=1.0)
    with pytest.raises(ValueError, match="non-finite"):
        mi_lower_bound_er(x, y, log_q=lambda a, b: np.full(50, -np.inf), entropy_y=1.0)
    with pytest.raises(ValueError, match="sphere"):
        mi_lower_bound_er(x, y, log_q=_cond_log_q(1, RHO), support="sphere")
    with pytest.raises(ValueError, match="same number"):
        mi_lower_bound_er(x, y[:10], log_q=_cond_log_q(1, RHO), entropy_y=1.0)
    with pytest.raises(ValueError, match="1-D"):
        er_lower_bound(torch.zeros(2, 2), 1.0)
    with pytest.raises(TypeError, match="torch.Tensor"):
        er_lower_bound(np.zeros(2), 1.0)


def test_er_lower_bound_torch_value_and_gradient():
    log_q = torch.tensor([-1.0, -2.0, -4.5], dtype=torch.float64, requires_grad=True)
    v = er_lower_bound(log_q, 3.0)
    v.backward()
    # H + mean log q = 3 - 2.5, d/d log_q_i = 1/3 (exact in float64)
    assert float(v.detach()) == pytest.approx(0.5, abs=1e-15)
    assert torch.allclose(log_q.grad, torch.full((3,), 1 / 3, dtype=torch.float64))


# ---- trained critics and decoders --------------------------------------------------------------

# Short training (300 steps of 128 pairs, 2000 training + 2000 held-out pairs): a trained critic
# must reach FRACTION of I(X;Y) and may exceed it only by 3 held-out standard errors (block
# spread; for DV also its small upward Jensen bias, which all-pairs evaluation keeps < se).
FRACTION = 0.8


@pytest.mark.parametrize("bound", ["infonce", "nwj", "dv", "mine"])
def test_trained_separable_critic_bounds_on_gaussian(bound):
    dim, truth = 2, gaussian_mi(2, RHO)
    x, y = correlated_gaussian(4000, dim, RHO, seed=10)
    est = VariationalMIEstimator(bound=bound, critic="separable", steps=300, seed=0)
    v = est.fit(x[:2000], y[:2000]).estimate(x[2000:], y[2000:], true_mi=truth)
    assert v.kind == "lower_bound" and est.history_.shape == (300,)
    assert v.value <= truth + 3 * v.details["se_nats"]
    assert v.value >= FRACTION * truth
    assert v.details["gap_nats"] == pytest.approx(truth - v.value)


def test_trained_concat_critic_infonce_dim1():
    truth = gaussian_mi(1, RHO)
    x, y = correlated_gaussian(3000, 1, RHO, seed=11)
    v = VariationalMIEstimator(bound="infonce", critic="concat", hidden=(32, 32), steps=150,
                               seed=0).fit(x[:1500], y[:1500]).estimate(x[1500:], y[1500:])
    assert FRACTION * truth <= v.value <= truth + 3 * v.details["se_nats"]


@pytest.mark.slow
@pytest.mark.parametrize("bound", ["infonce", "nwj", "dv", "mine"])
@pytest.mark.parametrize("dim", [1, 2])
def test_trained_concat_critic_all_bounds(bound, dim):
    truth = gaussian_mi(dim, RHO)
    x, y = correlated_gaussian(4000, dim, RHO, seed=12)
    v = VariationalMIEstimator(bound=bound, critic="concat", steps=300, seed=0).fit(
        x[:2000], y[:2000]).estimate(x[2000:], y[2000:])
    assert FRACTION * truth <= v.value <= truth + 3 * v.details["se_nats"]


def test_infonce_estimate_is_capped_by_log_batch_size():
    # I(X;Y) = 2 * 3.9 nats >> log 16: the held-out bound saturates but never passes the cap
    x, y = correlated_gaussian(2000, 2, 0.9995, seed=13)
    v = VariationalMIEstimator(bound="infonce", batch_size=16, steps=300, seed=0).fit(
        x[:1000], y[:1000]).estimate(x[1000:], y[1000:])
    assert v.details["cap_nats"] == pytest.approx(math.log(16))
    assert v.value <= math.log(16) + 1e-9  # exact property of every block (float64 rounding)
    assert v.value >= 0.9 * math.log(16)  # a near-deterministic pair is easy to match


@pytest.mark.parametrize("dim", [1, 2])
def test_trained_gaussian_decoder_er_bound(dim):
    truth = gaussian_mi(dim, RHO)
    x, y = correlated_gaussian(4000, dim, RHO, seed=20)
    est = ERBoundEstimator(decoder="gaussian", steps=300, seed=0).fit(x[:2000], y[:2000])
    v = est.estimate(x[2000:], y[2000:], entropy_y=gaussian_entropy(dim), true_mi=truth)
    assert v.kind == "lower_bound" and v.method == "er_bound_gaussian"
    # bound below the truth up to 3 Monte Carlo se; a Gaussian decoder is well specified here
    assert 0.9 * truth <= v.value <= truth + 3 * v.details["se_nats"]


def test_trained_vmf_decoder_er_bound_on_the_sphere():
    kappa = 5.0
    truth = vmf_mi(kappa)
    x, y = vmf_pairs(4000, kappa, seed=21)
    est = ERBoundEstimator(decoder="vmf", steps=300, seed=0).fit(x[:2000], y[:2000])
    v = est.estimate(x[2000:], y[2000:], entropy_y=math.log(4 * math.pi), true_mi=truth)
    # H(Y) = log area(S^2) (uniform marginal); well-specified decoder, 3 Monte Carlo se
    assert 0.9 * truth <= v.value <= truth + 3 * v.details["se_nats"]
    assert float(torch.exp(est.decoder_.log_kappa.detach())) == pytest.approx(kappa, rel=0.1)


def test_estimators_are_seeded_and_leave_global_rng_alone():
    x, y = correlated_gaussian(600, 1, RHO, seed=30)
    state = torch.get_rng_state()
    a = VariationalMIEstimator(steps=20, seed=3).fit(x[:300], y[:300]).estimate(x[300:], y[300:])
    b = VariationalMIEstimator(steps=20, seed=3).fit(x[:300], y[:300]).estimate(x[300:], y[300:])
    assert a.value == b.value
    assert torch.equal(state, torch.get_rng_state())


def test_estimator_errors():
    x, y = correlated_gaussian(300, 1, RHO, seed=31)
    with pytest.raises(ValueError, match="bound"):
        VariationalMIEstimator(bound="smile")
    with pytest.raises(ValueError, match="decoder"):
        ERBoundEstimator(decoder="laplace")
    with pytest.raises(ValueError, match="not fitted"):
        VariationalMIEstimator().estimate(x, y)
    with pytest.raises(ValueError, match="at least 128"):
        VariationalMIEstimator().fit(x[:50], y[:50])
    with pytest.raises(ValueError, match="unit sphere"):
        ERBoundEstimator(decoder="vmf").fit(np.c_[x, x], np.c_[y, y])
    with pytest.raises(ValueError, match="zero-variance"):
        VariationalMIEstimator().fit(np.c_[x, np.ones(300)], y)
    est = ERBoundEstimator(steps=5).fit(x, y)
    with pytest.raises(ValueError, match="columns"):
        est.log_prob(np.c_[x, x], y)


@pytest.mark.parametrize("make", [
    lambda **kw: VariationalMIEstimator(bound="nwj", **kw),
    lambda **kw: ERBoundEstimator(decoder="gaussian", hidden=(32, 32), **kw)])
def test_early_stopping_keeps_the_best_checkpoint(make):
    x, y = correlated_gaussian(900, 1, RHO, seed=32)
    est = make(steps=60, eval_every=10, early_stopping=True, batch_size=64, seed=4).fit(
        x[:600], y[:600])
    steps, scores = est.validation_history_.T
    assert list(steps) == [10, 20, 30, 40, 50, 60]
    assert est.best_step_ == steps[np.argmax(scores)]
    assert est.n_train_ == 600 - 120  # validation_fraction 0.2 held out
    # same seed streams, stopped at best_step_: identical split, minibatches and parameters
    again = make(steps=est.best_step_, eval_every=10, early_stopping=True, batch_size=64,
                 seed=4).fit(x[:600], y[:600])
    kw = {"entropy_y": 1.0} if isinstance(est, ERBoundEstimator) else {}
    assert est.estimate(x[600:], y[600:], **kw).value == again.estimate(x[600:], y[600:],
                                                                        **kw).value
