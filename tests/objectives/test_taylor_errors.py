"""logdet_taylor_errors against the closed form of a diagonal matrix; the two checks on rows."""
import math

import numpy as np
import pytest
import torch

from mitheory.objectives import logdet_taylor_error_checks, logdet_taylor_errors

LAM = np.array([0.3, 0.9, 1.6, 2.5])  # eigenvalues of the diagonal test matrix


def _taylor_diag(lam, b, order):
    """Order-K series of log det(diag(lam)) after rescaling by b, written per eigenvalue."""
    a = b * lam - 1
    return sum(sum((-1) ** (k + 1) * ai**k / k for k in range(1, order + 1)) for ai in a) \
        - len(lam) * math.log(b)


def test_errors_match_the_diagonal_closed_form():
    rows = logdet_taylor_errors({"d": torch.diag(torch.tensor(LAM))}, max_order=5,
                                fixed_betas=(0.5,))
    # the three rules of taylor_rescaling, then the fixed beta, in order
    want_b = {"trace": len(LAM) / LAM.sum(), "frobenius": 1 / np.sqrt((LAM**2).sum()),
              "spectral": 2 / (LAM.min() + LAM.max()), "0.5": 0.5}
    assert [r["beta"] for r in rows] == list(want_b)
    exact = np.log(LAM).sum()
    for r in rows:
        b = want_b[r["beta"]]
        assert r["matrix"] == "d"
        assert r["beta_value"] == pytest.approx(b, rel=1e-12)  # float64 round-off
        assert (r["eig_min"], r["eig_max"]) == pytest.approx((LAM.min(), LAM.max()), rel=1e-12)
        assert r["radius"] == pytest.approx(np.abs(b * LAM - 1).max(), rel=1e-12)
        want = [abs(_taylor_diag(LAM, b, k) - exact) for k in range(1, 6)]
        # float64 matrix powers against scalar powers: round-off far below 1e-10
        assert r["abs_error"] == pytest.approx(want, abs=1e-10)
        if r["radius"] < 1:  # convergent: the bound is finite and holds
            assert all(np.isfinite(r["bound"]))
            assert all(e <= bd * (1 + 1e-9) for e, bd in zip(r["abs_error"], r["bound"]))


def test_numpy_matrix_gives_the_torch_numbers():
    s = np.cov(np.random.default_rng(0).normal(size=(200, 3)), rowvar=False)
    a = logdet_taylor_errors({"m": s}, max_order=3)
    b = logdet_taylor_errors({"m": torch.from_numpy(s)}, max_order=3)
    assert a == b  # the same float64 tensor: bitwise equal


def _row(err, bound, radius=0.5):
    return {"abs_error": err, "bound": bound, "radius": radius}


def test_checks_flag_a_broken_bound_and_a_rising_error():
    good = _row([0.3, 0.1, 0.05], [0.4, 0.2, 0.05])
    assert logdet_taylor_error_checks([good]) == {
        "bound_holds": True, "error_decreasing_in_order_when_convergent": True}
    broken = _row([0.3, 0.1, 0.06], [0.4, 0.2, 0.05])  # last error above its bound
    assert not logdet_taylor_error_checks([good, broken])["bound_holds"]
    rising = _row([0.1, 0.2, 0.05], [0.4, 0.3, 0.1])
    assert not logdet_taylor_error_checks([rising])[
        "error_decreasing_in_order_when_convergent"]
    # a divergent row (infinite last bound) and a radius at 1 are outside both checks
    divergent = _row([1.0, 5.0, 9.0], [math.inf] * 3, radius=2.0)
    edge = _row([0.1, 0.2, 0.3], [1.0, 1.0, 1.0], radius=0.9995)
    assert all(logdet_taylor_error_checks([good, divergent, edge]).values())


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="mats"):
        logdet_taylor_errors({}, max_order=2)
    with pytest.raises(ValueError, match="max_order"):
        logdet_taylor_errors({"m": np.eye(2)}, max_order=0)
    with pytest.raises(ValueError, match="fixed_betas"):
        logdet_taylor_errors({"m": np.eye(2)}, max_order=2, fixed_betas=(-1.0,))
    with pytest.raises(ValueError, match="rows\\[0\\]"):
        logdet_taylor_error_checks([_row([0.1], [0.1, 0.2])])
