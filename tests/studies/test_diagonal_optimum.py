"""studies.diagonal_optimum: the study's statistics against closed forms, the C9 verdict
against its own thresholds, and the control that must stay off-diagonal."""
import inspect
import math

import numpy as np
import pytest
import torch

from mitheory.info import entropy_gaussian
from mitheory.objectives import vicreg_loss
from studies import diagonal_optimum as do


@pytest.fixture(scope="module")
def res():
    return do.run(do.QUICK)


def _cov2(a, b, c):
    return torch.tensor([[a, c], [c, b]], dtype=torch.float64)


@pytest.mark.parametrize("a, b, c", [(1.0, 1.0, 0.5), (2.0, 0.5, -0.7), (3.0, 1.0, 0.0)])
def test_statistics_match_closed_forms_in_two_dimensions(a, b, c):
    cov = _cov2(a, b, c)
    rho2 = c * c / (a * b)
    # total correlation of a bivariate Gaussian: -1/2 log(1 - rho^2) (float64 round-off)
    assert float(do.total_correlation(cov)) == pytest.approx(-0.5 * math.log1p(-rho2), abs=1e-14)
    # ||S - diag S||_F / ||S||_F with two off-diagonal entries c
    want = math.sqrt(2 * c * c / (a * a + b * b + 2 * c * c))
    assert float(do.off_diagonal(cov)) == pytest.approx(want, rel=1e-14, abs=1e-15)


def test_total_correlation_is_the_gaussian_entropy_gap():
    w = torch.randn(5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    cov = w @ w.T + torch.eye(5, dtype=torch.float64)  # well conditioned (eigenvalues >= 1)
    c = cov.numpy()
    gap = entropy_gaussian(np.diag(np.diag(c))).value - entropy_gaussian(c).value
    # two factorisations of a well-conditioned 5x5 matrix: float64 round-off
    assert float(do.total_correlation(cov)) == pytest.approx(gap, rel=1e-12)


def test_vicreg_weight_is_vicreg_loss_default():
    default = inspect.signature(vicreg_loss).parameters["var_weight"].default
    assert do.Config().var_weight == default == do.QUICK.var_weight


def test_c9_verdict_follows_its_thresholds(res):
    (claim,) = res["claims"]
    worst = {o: max(r["dist_final"] for r in res["runs"] if r["objective"] == o)
             for o in do.RULED}
    for rule, o in zip(do.C9_RULES, do.RULED):
        assert claim["evidence"][rule.name] == worst[o]
    ok = all(worst[o] < 0.01 for o in do.RULED)  # the claim's threshold, written in C9_RULES
    assert claim["verdict"] == ("supported" if ok else "not supported")
    assert all(r.supported == ("<", 0.01) for r in do.C9_RULES)


def test_hadamard_gap_is_non_negative_and_the_control_stays_off_diagonal(res):
    for r in res["runs"]:
        # Hadamard's inequality; float64 log det round-off of the QUICK matrices is < 1e-9
        assert r["gap_init_nats"] >= -1e-9 and r["gap_final_nats"] >= -1e-9
    control = [r["dist_final"] for r in res["runs"] if r["objective"] == "spectrum"]
    # a rotation-invariant objective has no pull towards the diagonal: its optimum keeps the
    # random rotation of its start (QUICK's four runs end between 0.35 and 0.41)
    assert min(control) > 0.05
