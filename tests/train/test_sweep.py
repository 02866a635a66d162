"""fit_sweep: each row is fit_and_evaluate + embed_pairs with the run's own streams; tolerated
failures are recorded, others raise. mmi_options: the label grammar."""
import pytest

from mitheory import generative, info, stats
from mitheory import train as tr
from mitheory.study import spawn

TC = tr.TrainConfig(steps=3, batch_size=32, device="cpu", progress=False, log_every=1)
FIT = {"dim_out": 2, "hidden": (8,), "n_fit": 60, "n_eval": 60, "n_kernel_fit": 40}


@pytest.fixture(scope="module")
def proc():
    return generative.make_process("cs_p1.0", seed=0, n_content=2, n_style=2)


def test_rows_are_the_cell_computed_by_hand(proc):
    runs = {"exact": {"logdet": "exact"}, "taylor2_1.0": {"order": 2, "beta": 1.0}}
    rows = tr.fit_sweep("mmi", proc, TC, runs, seeds=[(5, 0), (5, 1)], n_pairs=50, **FIT)
    assert [r["run"] for r in rows] == list(runs)
    for r, (opts, seed) in zip(rows, zip(runs.values(), [(5, 0), (5, 1)])):
        ss_t, ss_e, ss_p = spawn(seed, 3)
        fit = tr.fit_and_evaluate("mmi", proc, TC, seed_train=ss_t, seed_eval=ss_e, **FIT,
                                  **opts)
        za, zb = tr.embed_pairs(fit.method, proc, 50, seed=ss_p)
        # the same seeded computation: bitwise equal
        assert r["loss_curve"] == fit.train.losses and r["failed"] is None
        assert r["content_r2_kernel"] == fit.r2()["kernel"]
        assert r["content_r2_linear"] == fit.r2()["linear"]
        assert r["effective_rank"] == stats.effective_rank(za)
        assert r["mi_gaussian_nats"] == info.mi_gaussian_plugin(za, zb).value


def test_tolerated_failures_are_recorded_others_raise(proc):
    bad = {"ok": {}, "bad": {"order": 0}}  # order 0 is refused by the method: ValueError
    rows = tr.fit_sweep("mmi", proc, TC, bad, seeds=[0, 1], n_pairs=20, tolerate=(ValueError,),
                        **FIT)
    assert rows[0]["failed"] is None and set(rows[1]) == {"run", "failed"}
    assert "order" in rows[1]["failed"]
    with pytest.raises(ValueError, match="order"):
        tr.fit_sweep("mmi", proc, TC, bad, seeds=[0, 1], n_pairs=20, **FIT)


def test_bad_input_names_the_argument(proc):
    with pytest.raises(ValueError, match="seeds"):
        tr.fit_sweep("mmi", proc, TC, {"a": {}}, seeds=[0, 1], n_pairs=20)
    with pytest.raises(ValueError, match="runs"):
        tr.fit_sweep("mmi", proc, TC, {}, seeds=[], n_pairs=20)
    with pytest.raises(ValueError, match="name"):
        tr.fit_sweep("nope", proc, TC, {"a": {}}, seeds=[0], n_pairs=20)


@pytest.mark.parametrize("label,want", [
    ("exact", {"logdet": "exact"}), ("taylor4_frobenius", {"order": 4, "beta": "frobenius"}),
    ("taylor8_trace", {"order": 8, "beta": "trace"}), ("taylor4_1.0", {"order": 4, "beta": 1.0}),
])
def test_mmi_options_reads_the_label(label, want):
    got = tr.mmi_options(label)
    assert got == want and type(got.get("beta")) is type(want.get("beta"))


@pytest.mark.parametrize("label", ["taylor", "taylor4", "taylorx_trace", "taylor0_trace",
                                   "taylor4_-1", "taylor4_bogus", "logdet", "taylor4_a_b"])
def test_mmi_options_refuses_other_labels(label):
    with pytest.raises(ValueError, match="label"):
        tr.mmi_options(label)
