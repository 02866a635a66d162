"""The training loop (device choice, non-finite losses) and identifiability evaluation."""
import numpy as np
import pytest
import torch

from mitheory import generative
from mitheory import train as tr
from mitheory.models import make_mlp_encoder


def test_resolve_device():
    assert tr.resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        assert tr.resolve_device("auto").type == "cpu"
        with pytest.raises(ValueError, match="CUDA is not available"):
            tr.resolve_device("cuda")


def test_nonfinite_loss_raises():
    class Bad(tr.SSLMethod):
        name = "bad"

        def loss(self, x_a, x_b, x_neg=None):
            return (self.encoder(x_a) * float("nan")).sum()

    proc = generative.make_process("cs_p1.0", seed=0)
    with pytest.raises(FloatingPointError, match="non-finite loss .* step 0 of method bad"):
        tr.train(Bad(make_mlp_encoder(proc.dim_x, 2, hidden=(4,))), proc,
                 tr.TrainConfig(steps=3, batch_size=8, device="cpu"))


class _Oracle(tr.SSLMethod):
    """h(x) = content block of g^{-1}(x): the ideal content encoder (closed-form truth)."""

    def __init__(self, proc):
        super().__init__(torch.nn.Identity())
        self.proc = proc
        self.w = torch.nn.Parameter(torch.zeros(1))

    def embed(self, x):
        z = self.proc.mixing.inverse(x).to(torch.float64)
        return z[:, list(self.proc.content_idx)]


@pytest.mark.parametrize("setting", ["cs_p1.0", "cs_stat_causal"])
def test_evaluation_of_an_oracle_encoder(setting):
    proc = generative.make_process(setting, seed=1)
    ev = tr.evaluate_identifiability(_Oracle(proc), proc, n_fit=1500, n_eval=1500,
                                     n_kernel_fit=600, seed=0)
    # exact inverse: content is a copy of the representation, R^2 = 1 up to float32 mixing error
    assert ev["content"]["linear"] == pytest.approx(1.0, abs=1e-6)
    # style is predicted exactly as well as from the true content (same inputs up to float error)
    for kind in ("linear", "kernel"):
        assert ev["style"][kind] == pytest.approx(ev["style_from_content"][kind], abs=1e-3)
    if setting == "cs_p1.0":  # independent style: R^2 ~ 0 (sampling sd ~ 1/sqrt(1500) per dim)
        assert abs(ev["style"]["linear"]) < 0.05
    else:  # s <- s + Bc + a: style is linearly predictable from content
        assert ev["style"]["linear"] > 0.3


def test_checkpoints_leave_the_run_unchanged_and_end_at_the_final_evaluation():
    """Budget-curve evaluations along training do not touch the training stream: the losses and
    the final R^2 are identical with and without them, and the curve's last point is the final
    evaluation."""
    proc = generative.make_process("cs_p1.0", seed=0)
    cfg = tr.TrainConfig(steps=12, batch_size=32, lr=1e-3, device="cpu", progress=False,
                         log_every=1)
    # seeds as the studies pass them: stateful SeedSequences (a fresh copy for each call)
    def kw():
        return dict(seed_train=np.random.SeedSequence(1), seed_eval=np.random.SeedSequence(2),
                    n_fit=200, n_eval=200, n_kernel_fit=100, hidden=(16,))
    plain = tr.fit_and_evaluate("infonce", proc, cfg, **kw())
    curved = tr.fit_and_evaluate("infonce", proc, cfg, checkpoints=(3, 6, 12), **kw())
    assert curved.train.losses == plain.train.losses
    assert curved.evaluation["content"] == plain.evaluation["content"]
    assert [c["step"] for c in curved.curve] == [3, 6, 12]
    assert curved.curve[-1]["content"] == plain.evaluation["content"]
    assert curved.curve[0]["content"] != curved.curve[-1]["content"]  # it did measure mid-run
    with pytest.raises(ValueError, match="checkpoints"):
        tr.fit_and_evaluate("infonce", proc, cfg, checkpoints=(13,), **kw())


def test_input_statistics_are_the_moments_of_marginal_samples():
    proc = generative.make_process("box_normal", seed=0)
    mean, std = tr.input_statistics(proc, 4000, seed=5)
    x, _ = proc.sample_negatives(4000, seed=5)  # the same draws: an independent computation
    assert torch.equal(mean, x.mean(0)) and torch.equal(std, x.std(0))
    with pytest.raises(ValueError, match="n must be"):
        tr.input_statistics(proc, 1, seed=0)


def test_whitening_statistics_give_the_sample_identity_covariance():
    proc = generative.make_process("cs_stat", seed=0, n_iter_cond_thresh=300)
    mean, mat = tr.input_statistics(proc, 4000, seed=5, whiten=True)
    x, _ = proc.sample_negatives(4000, seed=5)  # the same draws
    assert torch.equal(mean, x.mean(0)) and torch.allclose(mat, mat.T)  # ZCA: symmetric
    white = ((x - mean) @ mat).double()
    # float32 matrix and data: the covariance is I to float32 rounding (~1e-7 x condition)
    assert torch.allclose(torch.cov(white.T), torch.eye(10, dtype=torch.float64), atol=1e-4)
    with pytest.raises(ValueError, match="singular"):  # 5 samples span at most 4 of 10 dims
        tr.input_statistics(proc, 5, seed=0, whiten=True)


class _BatchSpy(tr.SSLMethod):
    """Records the batches ``train`` feeds it (``seen``: ``(x_a, x_neg)`` per step)."""

    name = "spy"

    def __init__(self, encoder, *, negatives: bool = False):
        super().__init__(encoder)
        self.needs_negatives, self.seen = negatives, []

    def loss(self, x_a, x_b, x_neg=None):
        self.seen.append((x_a.clone(), x_neg))
        return (self.encoder(x_a) - self.encoder(x_b)).pow(2).mean()


def test_prefetched_batches_follow_the_same_law_in_a_different_stream():
    """prefetch_steps = k draws k steps' batches at once: the first step's batch is the first
    block of one large draw (so the stream differs from k = 1), and the run stays a function of
    the seed."""
    proc = generative.make_process("cs_p1.0", seed=0)

    def run(k):
        spy = _BatchSpy(make_mlp_encoder(proc.dim_x, 2, hidden=(4,)))
        tr.train(spy, proc, tr.TrainConfig(steps=5, batch_size=8, device="cpu",
                                           progress=False, prefetch_steps=k), seed=3)
        return torch.cat([x for x, _ in spy.seen])

    one, three, three_again = run(1), run(3), run(3)
    assert one.shape == three.shape == (40, proc.dim_x)  # 5 steps x 8, the last block short
    assert torch.equal(three, three_again)
    assert not torch.equal(one, three)
    # steps 0-2 are one draw of 24 pairs: the same as sampling 24 pairs from that stream
    from mitheory._rng import as_generator, spawn
    block = proc.sample_pairs(24, seed=as_generator(spawn(3, 2)[1])).x
    assert torch.equal(three[:24], block)
    with pytest.raises(ValueError, match="prefetch_steps"):
        tr.train(_BatchSpy(make_mlp_encoder(proc.dim_x, 2, hidden=(4,))), proc,
                 tr.TrainConfig(steps=2, batch_size=8, device="cpu", prefetch_steps=0))


def test_make_and_train_is_make_method_then_train():
    proc = generative.make_process("cs_p1.0", seed=0)
    cfg = tr.TrainConfig(steps=5, batch_size=16, device="cpu", progress=False, log_every=1)
    method, res = tr.make_and_train("vicreg", proc, cfg, seed=3, hidden=(8,))
    ref = tr.make_method("vicreg", dim_in=proc.dim_x, hidden=(8,),
                         dim_out=tr.representation_dim("vicreg", proc))
    ref_res = tr.train(ref, proc, cfg, seed=3)
    assert res.losses == ref_res.losses  # the same run, step by step: exact
    for p, q in zip(method.parameters(), ref.parameters()):
        assert torch.equal(p, q)


def test_er_bound_of_method_is_the_linear_er_bound_on_embedded_pairs():
    from mitheory import info

    proc = generative.make_process("cs_p1.0", seed=0)
    cfg = tr.TrainConfig(steps=5, batch_size=16, device="cpu", progress=False)
    method, _ = tr.make_and_train("vicreg", proc, cfg, seed=0, hidden=(8,))
    got = tr.er_bound_of_method(method, proc, n_fit=300, n_eval=200, seed_fit=1, seed_eval=2,
                                seed=3)
    # the same measurement composed by hand from the public pieces, same seeds: exact
    h1f, h2f = tr.embed_pairs(method, proc, 300, seed=1)
    h1e, h2e = tr.embed_pairs(method, proc, 200, seed=2)
    b = info.mi_lower_bound_er_linear(h1f, h2f, h1e, h2e, seed=3)
    assert got == {"er_bound": b.value, "er_bound_se": b.details["se_nats"],
                   "entropy_knn": b.details["entropy_y_nats"],
                   "entropy_gauss": info.entropy_gaussian_plugin(h2e).value}


def test_fit_row_is_fit_and_evaluate_then_the_effective_rank():
    from mitheory import stats
    from mitheory.study import spawn

    proc = generative.make_process("cs_p1.0", seed=0)
    cfg = tr.TrainConfig(steps=5, batch_size=16, device="cpu", progress=False)
    row = tr.fit_row("vicreg", proc, cfg, seed=(4, 1), n_eval=120, n_kernel_fit=60, hidden=(8,))
    # the same cell composed by hand from the public pieces and the documented seed split
    ss_train, ss_eval, ss_rank = spawn((4, 1), 3)
    fit = tr.fit_and_evaluate("vicreg", proc, cfg, seed_train=ss_train, seed_eval=ss_eval,
                              hidden=(8,), n_fit=120, n_eval=120, n_kernel_fit=60)
    h, _ = tr.embed_samples(fit.method, proc, 120, seed=ss_rank)
    assert row["content_r2_linear"] == fit.r2()["linear"]  # same runs: exact
    assert row["content_r2_kernel"] == fit.r2()["kernel"]
    assert row["effective_rank"] == stats.effective_rank(h) and row["dim_z"] == h.shape[1]
    assert row["loss_curve"] == fit.train.losses


def test_infonce_options_match_each_process_conditional():
    # closed forms: vMF(kappa) <-> exp(kappa h.h~) so tau = 1/kappa; N(sigma^2) <->
    # exp(-|h-h~|^2 / (2 sigma^2)) so tau = 2 sigma^2; content/style: the public code's tau = 1
    sph = generative.make_process("sphere_vmf", seed=0, kappa=4.0, n_iter_cond_thresh=10)
    box = generative.make_process("box_normal", seed=0, scale=0.1, n_iter_cond_thresh=10)
    cs = generative.make_process("cs_p1.0", seed=0)
    assert tr.infonce_options(sph) == {"similarity": "dot", "tau": 0.25}
    assert tr.infonce_options(box) == {"similarity": "l2sq", "tau": pytest.approx(0.02),
                                       "denominator": "logsumexp"}
    assert tr.infonce_options(cs) == {"similarity": "l2sq", "tau": 1.0,
                                      "denominator": "logmeanexp"}


def test_negatives_set_the_fresh_negatives_per_step_apart_from_the_batch():
    proc = generative.make_process("cs_p1.0", seed=0)
    for k in (1, 3):  # drawn alone, and in prefetched blocks
        spy = _BatchSpy(make_mlp_encoder(proc.dim_x, 2, hidden=(4,)), negatives=True)
        tr.train(spy, proc, tr.TrainConfig(steps=4, batch_size=8, negatives=20, device="cpu",
                                           progress=False, prefetch_steps=k))
        assert [(len(x), len(n)) for x, n in spy.seen] == [(8, 20)] * 4
    with pytest.raises(ValueError, match="negatives"):
        tr.train(_BatchSpy(make_mlp_encoder(proc.dim_x, 2, hidden=(4,)), negatives=True), proc,
                 tr.TrainConfig(steps=2, batch_size=8, negatives=0, device="cpu"))
