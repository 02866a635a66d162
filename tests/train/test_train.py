import numpy as np
import pytest
import torch

from mitheory import generative
from mitheory import train as tr


def test_encoder_shapes_and_sphere_output():
    enc = tr.make_mlp_encoder(10, 6, hidden=(8, 8), output="sphere")
    h = enc(torch.randn(5, 10))
    assert h.shape == (5, 6)
    # sphere output: unit norm up to float32 rounding
    assert torch.allclose(h.norm(dim=1), torch.ones(5), atol=1e-6)
    assert tr.paper_hidden(10) == (100, 500, 500, 500, 500, 100)  # cl-ica get_mlp widths
    with pytest.raises(ValueError, match="output must be one of"):
        tr.make_mlp_encoder(10, 6, output="ball")


def test_resolve_device():
    assert tr.resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        assert tr.resolve_device("auto").type == "cpu"
        with pytest.raises(ValueError, match="CUDA is not available"):
            tr.resolve_device("cuda")


@pytest.mark.parametrize("name", tr.METHODS)
def test_training_is_deterministic_per_seed(name):
    proc = generative.make_process("cs_p1.0", seed=0)
    cfg = tr.TrainConfig(steps=4, batch_size=32, device="cpu", log_every=1, progress=False)
    kw = {"similarity": "l2sq"} if name == "infonce" else {}
    losses = []
    for _ in range(2):
        m = tr.make_method(name, dim_in=proc.dim_x, dim_out=5, hidden=(16,), **kw)
        losses.append(tr.train(m, proc, cfg, seed=3).losses)
    assert losses[0] == losses[1]
    assert all(np.isfinite(v) for _, v in losses[0])


def test_nonfinite_loss_raises():
    class Bad(tr.SSLMethod):
        name = "bad"

        def loss(self, x_a, x_b, x_neg=None):
            return (self.encoder(x_a) * float("nan")).sum()

    proc = generative.make_process("cs_p1.0", seed=0)
    with pytest.raises(FloatingPointError, match="non-finite loss .* step 0 of method bad"):
        tr.train(Bad(tr.make_mlp_encoder(proc.dim_x, 2, hidden=(4,))), proc,
                 tr.TrainConfig(steps=3, batch_size=8, device="cpu"))


def test_byol_target_follows_ema_formula():
    m = tr.make_method("byol", dim_in=4, dim_out=3, hidden=(5,), base_momentum=0.9)
    with torch.no_grad():
        for p in m.encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in m.target.parameters()]
    m.after_step(0, 10)  # cosine schedule at step 0 gives the base momentum 0.9
    for t, b, o in zip(m.target.parameters(), before, m.encoder.parameters()):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * o)  # BYOL: xi <- tau xi + (1 - tau) theta


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
