"""mmi_taylor: closed forms of the invariance part, the Taylor error bound, the verdict rules."""
from math import comb

import numpy as np
import pytest

from studies import mmi_taylor as mt


@pytest.fixture(scope="module")
def res():
    return mt.run(mt.QUICK)  # BLAS is single-threaded for the whole session (conftest)


def test_second_order_mi_is_exactly_invariant_under_linear_maps(res):
    inv = {r["map"]: r for r in res["invariance_summary"]}
    # log det(A S A^T) = log det S + 2 log|det A| cancels in the MI: float64 round-off only
    assert inv["linear"]["gaussian_change_maxabs"] < 1e-10
    rho = mt.QUICK.rho  # two pairs of correlation rho: I = 2 x (-0.5 log(1 - rho^2))
    assert inv["identity"]["true_mi_nats"] == pytest.approx(-np.log(1 - rho**2), rel=1e-12)


def _corr_exp_sd(rho: float, n: int) -> tuple[float, float]:
    """corr(X, e^Y) and the asymptotic sd of its sample estimate, X, Y standard normal, corr rho.

    Moments E[X^a e^{bY}] = e^{b^2/2} E[N(b rho, 1)^a] (Gaussian tilting); the sd is the
    delta-method variance of a sample correlation for non-normal data (Kendall & Stuart 10.5)."""
    def raw(a, b):
        mu = b * rho
        return np.exp(b * b / 2) * [1, mu, mu**2 + 1, mu**3 + 3 * mu, mu**4 + 6 * mu**2 + 3][a]

    def c(j, k):  # E[X^j (W - E W)^k], W = e^Y
        return sum(comb(k, i) * raw(j, i) * (-np.exp(0.5))**(k - i) for i in range(k + 1))
    r = c(1, 1) / np.sqrt(c(2, 0) * c(0, 2))
    v = r**2 / 4 * (c(4, 0) / c(2, 0)**2 + c(0, 4) / c(0, 2)**2 + 2 * c(2, 2) / (c(2, 0) * c(0, 2))
                    + 4 * c(2, 2) / c(1, 1)**2 - 4 * c(3, 1) / (c(1, 1) * c(2, 0))
                    - 4 * c(1, 3) / (c(1, 1) * c(0, 2)))
    return r, np.sqrt(v / n)


def test_gaussian_plugin_change_under_exp_matches_steins_lemma(res):
    q = mt.QUICK
    r, sd_r = _corr_exp_sd(q.rho, q.n_mi)
    # Stein's lemma: Cov(X, e^Y) = rho E e^Y, so corr = rho / sqrt(e - 1); float64 round-off
    assert r == pytest.approx(q.rho / np.sqrt(np.e - 1), rel=1e-12)
    # population plug-in MI: -log(1 - rho^2) = 1.0217 -> -log(1 - rho^2/(e - 1)) = 0.4659 nats
    want = -np.log(1 - r**2) + np.log(1 - q.rho**2)
    assert want == pytest.approx(-0.556, abs=1e-3)
    # spread: per pair I = -0.5 log(1 - r^2), dI/dr = r / (1 - r^2); the identity pair's sd is
    # rho / sqrt(n) (Gaussian), the exp pair's is dI/dr x sd_r; sd(change) <= their sum (any
    # correlation), x sqrt(2) for the two pairs, / sqrt(n_reps) for the mean: 0.143 at n = 400
    sd = np.sqrt(2) * (r / (1 - r**2) * sd_r + q.rho / np.sqrt(q.n_mi)) / np.sqrt(q.n_mi_reps)
    got = {x["map"]: x for x in res["invariance_summary"]}["exp"]["gaussian_change_mean"]
    assert got == pytest.approx(want, abs=2 * sd)  # 2 sd of a conservative bound, bias O(1/n)


def test_gaussian_verdict_is_its_threshold_on_its_evidence(res):
    inv = {r["map"]: r for r in res["invariance_summary"]}
    claim = res["claims"][1]
    value = max(abs(inv[m]["gaussian_change_mean"]) for m in ("exp", "cube"))
    assert claim["evidence"][mt.GAUSS_RULE.name] == value
    assert claim["verdict"] == mt.GAUSS_RULE.decide(value) == "not supported"  # |change| ~ 0.5


def test_taylor_error_falls_with_order_inside_convergence_region(res):
    conv = [r for r in res["approx"] if r["radius"] < 0.999]
    assert conv, "no convergent (matrix, beta) pair: the 'frobenius' rule always converges"
    for r in conv:
        err, bound = np.array(r["abs_error"]), np.array(r["bound"])
        # theory: each remainder term is bounded by the tail series (float64 round-off allowed)
        assert np.all(err <= bound * (1 + 1e-6) + 1e-9), r["beta"]
        # spectrum of beta*S - I in (-1, 1): the |remainder| of every eigenvalue falls with K
        # when all a_i <= 0 (frobenius rule); alternating a_i > 0 terms may not be monotone
        if r["beta"] == "frobenius":
            assert np.all(np.diff(err) <= 1e-9), r["abs_error"]


def test_training_runs_complete_at_the_quick_scale(res):
    # the QUICK training runs are small but well posed: a recorded failure is a bug in the
    # study's wiring (e.g. an invalid evaluation size), not the Taylor loss diverging
    assert res["training"] and all(r["failed"] is None for r in res["training"])
    assert all(len(r["loss_curve"]) > 0 for r in res["training"])
