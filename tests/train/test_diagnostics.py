"""Gradient spread of a method over independent mini-batches, encoder fixed."""
import pytest

from mitheory import generative, train as tr
from mitheory.study import int_seed as int_seed


def test_gradient_variance_shrinks_like_one_over_batch():
    proc = generative.make_process("cs_p1.0", seed=0)
    m = tr.make_method("spectral", dim_in=proc.dim_x, dim_out=3, hidden=(16,))
    small = tr.gradient_variance(m, proc, batch_size=32, n_batches=24, seed=0)
    big = tr.gradient_variance(m, proc, batch_size=256, n_batches=24, seed=1)
    # a mean of B roughly independent terms: tr Cov ~ 1/B, so x8 batch -> /8; the spread of a
    # 24-batch variance estimate (~ sqrt(2/23) ~ 30% each) allows a factor in [3, 20]
    assert 3.0 < small["total_variance"] / big["total_variance"] < 20.0
    assert small["mean_grad"].shape == (sum(p.numel() for p in m.encoder.parameters()),)
    with pytest.raises(ValueError, match="n_batches"):
        tr.gradient_variance(m, proc, batch_size=32, n_batches=1)


def test_gradient_variance_sweep_matches_direct_calls_at_the_base_encoder():
    proc = generative.make_process("cs_p1.0", seed=0)
    base = tr.make_method("spectral", dim_in=proc.dim_x, dim_out=3, hidden=(16,))
    methods = {"spectral": ("spectral", {}, 0), "vicreg": ("vicreg", {}, 0)}
    rows = tr.gradient_variance_sweep(base, proc, methods, [16, 32], reference="spectral",
                                      n_batches=4, hidden=(16,), dim_out=3, seed=3)
    assert [(r["batch_size"], r["label"]) for r in rows] == [
        (16, "spectral"), (16, "vicreg"), (32, "spectral"), (32, "vicreg")]
    # the spectral rows are the spectral loss at base's own weights on the batches seeded
    # int_seed((3, i)): a direct call gives the same float64 sums (same ops, same order)
    for i, b in enumerate([16, 32]):
        want = tr.gradient_variance(base, proc, batch_size=b, n_batches=4,
                                    seed=int_seed((3, i)))
        got = rows[2 * i]
        assert got["total_variance"] == pytest.approx(want["total_variance"], rel=1e-12)
        # cosine of a vector with itself: 1 up to rounding of the float64 norms
        assert got["cos_mean_grad_vs_reference"] == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="reference"):
        tr.gradient_variance_sweep(base, proc, methods, [16], reference="byol", n_batches=4,
                                   hidden=(16,), dim_out=3)


def test_mean_budget_curve_averages_each_checkpoint():
    def curve(a, b):
        return [{"step": 10, "content": {"linear": a, "kernel": b}},
                {"step": 20, "content": {"linear": 2 * a, "kernel": 2 * b}}]
    got = tr.mean_budget_curve([curve(0.2, 0.4), curve(0.4, 0.0)])
    # means of (0.2, 0.4), (0.4, 0.0) and their doubles; float64 to 1e-12
    assert got["step"] == [10, 20]
    assert got["content_r2_linear"] == pytest.approx([0.3, 0.6], abs=1e-12)
    assert got["content_r2_kernel"] == pytest.approx([0.2, 0.4], abs=1e-12)
    with pytest.raises(ValueError, match="checkpoints"):
        tr.mean_budget_curve([curve(0.1, 0.1), curve(0.1, 0.1)[:1]])


def test_relative_variance_ratio_divides_the_rows_per_batch_size():
    rows = [{"batch_size": b, "label": lab, "relative_variance": v}
            for b, lab, v in ((8, "a", 2.0), (8, "ref", 4.0), (16, "a", 3.0), (16, "ref", 1.5),
                              (32, "a", float("inf")), (32, "ref", float("inf")))]
    r = tr.relative_variance_ratio(rows, "a", reference="ref")
    # 2/4 and 3/1.5 are exact in binary floating point; inf/inf is undefined: NaN
    assert list(r) == [8, 16, 32] and r[8] == 0.5 and r[16] == 2.0 and r[32] != r[32]
    with pytest.raises(ValueError, match="label"):
        tr.relative_variance_ratio(rows, "b", reference="ref")
