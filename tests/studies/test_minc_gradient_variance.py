"""minc_gradient_variance: the sweep design and the C14 gradient rule from its own rows."""
import pytest

from studies import minc_gradient_variance as mg


@pytest.fixture(scope="module")
def res():
    return mg.run(mg.QUICK)  # BLAS is single-threaded for the whole session (conftest)


def test_every_loss_at_every_batch_size(res):
    assert [(r["batch_size"], r["label"]) for r in res["grad_variance"]] == [
        (b, lab) for b in mg.QUICK.batch_sizes for lab in mg.GV_METHODS]


def test_the_gradient_rule_follows_the_ratio_recomputed_from_the_rows(res):
    (claim,) = res["claims"]
    assert claim["claim"] == "C14" and claim["notes"] == "part: lower-variance gradients"
    rv = {(r["batch_size"], r["label"]): r["total_variance"] / r["signal"]
          for r in res["grad_variance"] if r["signal"] > 0}
    ratio = claim["evidence"]["relvar_minc_over_unclipped_spectral"]
    for b in mg.QUICK.batch_sizes:
        assert ratio[b] == pytest.approx(rv[(b, "minc ema=0.8")] / rv[(b, "spectral unclipped")],
                                         rel=1e-12)  # float64 round-off only
    lower = [x < 1 for x in ratio.values()]
    assert claim["verdict"] == (
        "supported" if all(lower) else "not supported" if not any(lower) else "inconclusive")
