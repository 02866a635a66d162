"""benchmarks/infonce_ceiling's latent-input process: the observations are the latents."""
import numpy as np
import torch

from benchmarks.infonce_ceiling import latents_as_inputs
from mitheory.generative import make_process


def test_latents_as_inputs_sees_z_and_draws_what_the_process_draws():
    proc = make_process("cs_stat", seed=3, n_iter_cond_thresh=200)
    seen = latents_as_inputs(proc)
    a, b = proc.sample_pairs(64, seed=5), seen.sample_pairs(64, seed=5)
    # the same latents and views (same streams), the identity in place of the mixing
    torch.testing.assert_close(a.z, b.z, rtol=0, atol=0)
    torch.testing.assert_close(a.z_tilde, b.z_tilde, rtol=0, atol=0)
    torch.testing.assert_close(b.x, b.z, rtol=0, atol=0)
    torch.testing.assert_close(b.x_tilde, b.z_tilde, rtol=0, atol=0)
    xn, zn = seen.sample_negatives(32, seed=7)
    torch.testing.assert_close(xn, zn, rtol=0, atol=0)
    # the original process is untouched: its observations are still g(z), not z
    assert not np.allclose(a.x.numpy(), a.z.numpy(), atol=1e-3)
    torch.testing.assert_close(proc.sample_pairs(64, seed=5).x, a.x, rtol=0, atol=0)
