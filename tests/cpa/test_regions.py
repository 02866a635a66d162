"""Region maps: f(x) = A x + b in float64, A = autograd Jacobian, codes, batching."""
import numpy as np
import pytest
import torch

from mitheory.cpa import boundary_distance, region_affine_map, region_code, trace_cpa
from tests.cpa.conftest import as_double


def _inputs(shape, n, seed):
    return np.random.default_rng(seed).standard_normal((n, *shape))


METHODS = pytest.mark.parametrize("method", ["forward", "reverse"])


@METHODS
def test_affine_map_reproduces_network(network, method):
    name, net, shape = network
    x = _inputs(shape, 16, 0)
    rm = region_affine_map(net, x, method=method)
    y = as_double(net)(torch.as_tensor(x)).detach().numpy().reshape(len(x), -1)
    # float64 round-off through a few layers of width <= 200: ~1e-15 per op
    np.testing.assert_allclose(rm.output, y, rtol=0, atol=1e-10)
    np.testing.assert_allclose(rm.apply(x), y, rtol=0, atol=1e-10)


@METHODS
def test_affine_map_holds_on_whole_region(network, method):
    """A, b are the region's map: exact at other points of the region, not only at x."""
    name, net, shape = network
    x = _inputs(shape, 8, 1)
    rm = region_affine_map(net, x, method=method)
    bd = boundary_distance(net, x)
    u = np.random.default_rng(2).standard_normal(x.shape)
    u /= np.linalg.norm(u.reshape(len(x), -1), axis=1).reshape(-1, *[1] * len(shape))
    x2 = x + 0.9 * bd.distance.reshape(-1, *[1] * len(shape)) * u  # still inside the region
    y2 = as_double(net)(torch.as_tensor(x2)).detach().numpy().reshape(len(x), -1)
    np.testing.assert_array_equal(region_code(net, x2), rm.code)
    np.testing.assert_allclose(rm.apply(x2), y2, rtol=0, atol=1e-10)  # float64 round-off


@METHODS
def test_slope_equals_autograd_jacobian(network, method):
    name, net, shape = network
    x = _inputs(shape, 4, 3)
    rm = region_affine_map(net, x, method=method)
    dnet = as_double(net)
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda t: dnet(t[None])[0],
                                                 torch.as_tensor(x[i]))
        # autograd and forward propagation sum the same float64 products in other orders
        np.testing.assert_allclose(rm.A[i], jac.reshape(rm.A.shape[1], -1).numpy(),
                                   rtol=0, atol=1e-12)


def test_forward_and_reverse_modes_agree(network):
    name, net, shape = network
    x = _inputs(shape, 10, 8)
    fwd, rev = (region_affine_map(net, x, method=m) for m in ("forward", "reverse"))
    np.testing.assert_array_equal(fwd.code, rev.code)
    # the same products summed in different orders: float64 round-off
    np.testing.assert_allclose(fwd.A, rev.A, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fwd.b, rev.b, rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="method"):
        region_affine_map(net, x, method="central")


def test_float32_network_output_close_to_float64_map(network):
    name, net, shape = network
    x = _inputs(shape, 8, 4)
    rm = region_affine_map(net, x)
    y32 = net(torch.as_tensor(x, dtype=torch.float32)).detach().numpy().reshape(len(x), -1)
    # float32 forward pass: relative rounding ~1e-7 per op, outputs O(1)
    np.testing.assert_allclose(rm.output, y32, rtol=0, atol=1e-4)


@METHODS
@pytest.mark.parametrize("chunk_size", [1, 3, 1000])
def test_batched_equals_single_input(chunk_size, method):
    from tests.cpa.conftest import NETWORKS

    make, shape = NETWORKS["cnn_maxpool"]
    net = make()
    x = _inputs(shape, 7, 5)
    batched = region_affine_map(net, x, chunk_size=chunk_size, method=method)
    for i in range(len(x)):
        single = region_affine_map(net, x[i:i + 1], method=method)
        np.testing.assert_array_equal(single.code[0], batched.code[i])
        # identical float64 ops on a batch of one vs many: equal up to BLAS blocking
        np.testing.assert_allclose(single.A[0], batched.A[i], rtol=0, atol=1e-13)


def test_region_code_is_sign_pattern_for_one_hidden_layer():
    from mitheory.cpa import cpa_mlp

    net = cpa_mlp([3, 9, 2], seed=0)
    x = _inputs((3,), 50, 6)
    w, c = net[0].weight.double().detach().numpy(), net[0].bias.double().detach().numpy()
    np.testing.assert_array_equal(region_code(net, x), (x @ w.T + c > 0).astype(np.int32))


def test_traced_network_is_a_snapshot_and_reusable():
    from mitheory.cpa import cpa_mlp

    net = cpa_mlp([3, 8, 2], seed=0)
    cnet = trace_cpa(net)
    x = _inputs((3,), 5, 7)
    before = region_affine_map(cnet, x).output
    with torch.no_grad():
        net[0].bias.add_(1.0)
    np.testing.assert_array_equal(region_affine_map(cnet, x).output, before)
    assert not np.allclose(region_affine_map(net, x).output, before)


@pytest.mark.parametrize("bad, exc, match", [
    (np.zeros(5), ValueError, "batch"),
    (np.full((2, 5), np.nan), ValueError, "NaN"),
    (np.zeros((0, 5)), ValueError, "empty"),
    ("abc", TypeError, "numeric"),
])
def test_bad_inputs(bad, exc, match):
    from mitheory.cpa import cpa_mlp

    with pytest.raises(exc, match=match):
        region_affine_map(cpa_mlp([5, 4, 1], seed=0), bad)
