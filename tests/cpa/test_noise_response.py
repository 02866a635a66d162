import numpy as np
import pytest
import torch
from torch import nn

from mitheory.cpa import exit_probability_by_scale, exit_probability_mc, noise_response, trace_cpa


def _affine_net():
    """An affine map (one region only): Gaussian noise maps to a Gaussian, never exits."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 4)).double()


def test_affine_network_outputs_are_gaussian_and_never_exit():
    net = _affine_net()
    cnet = trace_cpa(net)
    protos = torch.rand(3, 3, 2, 2, generator=torch.Generator().manual_seed(1))
    rows, exits = noise_response(lambda x: net(x.double()).detach().numpy(), cnet, protos,
                                 (0.01, 0.1), exit_scales=(1e-3,), n_noise=200, n_exit=8,
                                 tests=("hz", "mardia"), test_dim=2, seed=(0, 1))
    assert [r["s"] for r in rows] == [0.01, 0.1] and exits == {"0.001": 0.0}
    for r in rows:
        assert r["exit"] == [0.0] * 3  # one region: the noise never leaves it
        assert r["noise_norm"] == pytest.approx(r["s"] * np.sqrt(12), rel=1e-12)
        for m in ("hz", "mardia"):
            assert r[f"pass_{m}"] == np.mean([not t[m]["reject"] for t in r["tests"]])
    # a Gaussian passes at level 0.01 with probability 0.99: of 6 (prototype, scale) tests of
    # each kind at most one may reject with probability > 0.998
    assert sum(not t["hz"]["reject"] for r in rows for t in r["tests"]) >= 5
    # the same map: only the float32 noisy input differs (relative rounding 2^-24 per pixel,
    # ~6e-8 x 12 pixels summed) against an output sd ~ s = 0.01: below ~1e-4
    assert rows[0]["float32_error_over_output_sd"] < 1e-4


def test_relu_exit_probability_by_scale_matches_exit_probability_mc():
    torch.manual_seed(0)
    net = trace_cpa(nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)))
    x = torch.rand(5, 1, 2, 2, generator=torch.Generator().manual_seed(2))
    got = exit_probability_by_scale(net, x, (0.1, 1.0), n_samples=16, seed=(3,))
    for k, s in enumerate((0.1, 1.0)):  # the documented seed (*seed, k) per scale
        want = exit_probability_mc(net, x, s**2, n_samples=16, seed=(3, k)).estimate.mean()
        assert got[str(s)] == want
    assert got["0.1"] <= got["1.0"]  # stated property for this net: more noise, more exits


def test_same_seed_same_numbers_and_bad_inputs():
    net = _affine_net()
    cnet = trace_cpa(net)
    protos = torch.rand(2, 3, 2, 2)
    kw = dict(n_noise=30, n_exit=2, tests=("mardia",), test_dim=2, seed=4)
    emb = lambda x: net(x.double()).detach().numpy()  # noqa: E731
    assert noise_response(emb, cnet, protos, (0.1,), **kw) == noise_response(emb, cnet, protos,
                                                                             (0.1,), **kw)
    with pytest.raises(ValueError, match="noise_scales"):
        noise_response(emb, cnet, protos, (-0.1,), **kw)
    with pytest.raises(TypeError, match="embed"):
        noise_response(3.0, cnet, protos, (0.1,), **kw)
    with pytest.raises(TypeError, match="seed"):
        exit_probability_by_scale(cnet, protos, (0.1,), n_samples=2, seed="a")


def test_noise_response_curves_put_the_exit_only_scales_first():
    from mitheory.cpa import noise_response_curves

    net = _affine_net()
    protos = torch.rand(3, 3, 2, 2, generator=torch.Generator().manual_seed(1))
    rows, exits = noise_response(lambda x: net(x.double()).detach().numpy(), trace_cpa(net),
                                 protos, (0.01, 0.1), exit_scales=(1e-4, 1e-3), n_noise=30,
                                 n_exit=4, tests=("mardia",), test_dim=2, seed=0)
    c = noise_response_curves(rows, "mardia", exits)
    assert c["s"] == [0.01, 0.1] and c["exit_s"] == [1e-4, 1e-3, 0.01, 0.1]
    assert c["p_value"].shape == (2, 3)  # scales x prototypes
    assert c["p_value"][1, 2] == rows[1]["tests"][2]["mardia"]["p_value"]
    assert c["exit"] == [*exits.values(), *(np.mean(r["exit"]) for r in rows)]
    assert noise_response_curves(rows, "mardia")["exit_s"] == [0.01, 0.1]  # no exit-only scales
    with pytest.raises(ValueError, match="test 'hz'"):
        noise_response_curves(rows, "hz")
