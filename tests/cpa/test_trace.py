"""Tracing: supported layers, clear errors for non-CPA layers, float64 forward."""
import numpy as np
import pytest
import torch
from torch import nn

from mitheory.cpa import CPANetwork, NotCPAError, cpa_mlp, region_affine_map, trace_cpa
from tests.cpa.conftest import as_double


@pytest.mark.parametrize("layer, label", [(nn.GELU(), "GELU"), (nn.Softmax(dim=1), "Softmax"),
                                          (nn.Tanh(), "Tanh"), (nn.Sigmoid(), "Sigmoid")])
def test_non_cpa_layer_is_named_in_error(layer, label):
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 4), layer))
    with pytest.raises(NotCPAError, match=rf"not CPA: layer '2\.1' is {label}"):
        trace_cpa(net)
    with pytest.raises(TypeError):  # NotCPAError is a TypeError
        region_affine_map(net, np.zeros((1, 3)))


def test_custom_module_is_rejected():
    class Mine(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(NotCPAError, match="Mine"):
        trace_cpa(nn.Sequential(nn.Linear(2, 2), Mine()))


def test_sequential_subclass_with_own_forward_is_rejected():
    class Twice(nn.Sequential):
        def forward(self, x):
            return super().forward(x) * 2

    with pytest.raises(NotCPAError, match="Twice"):
        trace_cpa(Twice(nn.Linear(2, 2)))


def test_batchnorm_in_training_mode_is_rejected():
    net = cpa_mlp([3, 4, 1], batch_norm=True, seed=0).train()
    with pytest.raises(ValueError, match="eval mode"):
        trace_cpa(net)


def test_maxpool_ceil_mode_and_padding_mode_rejected():
    with pytest.raises(NotCPAError, match="ceil_mode"):
        trace_cpa(nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)))
    with pytest.raises(NotCPAError, match="padding_mode"):
        trace_cpa(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")))


def test_not_a_module():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        trace_cpa(lambda x: x)


def test_traced_forward_matches_float64_module(network):
    name, net, shape = network
    cnet = trace_cpa(net)
    assert isinstance(cnet, CPANetwork) and trace_cpa(cnet) is cnet
    x = torch.as_tensor(np.random.default_rng(0).standard_normal((6, *shape)))
    # same float64 operations in the same order: equal to round-off
    torch.testing.assert_close(cnet(x), as_double(net)(x).detach(), rtol=0, atol=1e-12)


def test_device_mismatch_for_traced_network():
    cnet = trace_cpa(cpa_mlp([2, 3, 1], seed=0))
    with pytest.raises(ValueError, match="device"):
        trace_cpa(cnet, device="meta")


def test_reused_module_object_is_traced_at_every_position():
    act = nn.ReLU()
    net = nn.Sequential(nn.Linear(3, 4), act, nn.Linear(4, 4), act, nn.Linear(4, 2))
    x = torch.as_tensor(np.random.default_rng(1).standard_normal((20, 3)))
    # named_children() would list `act` once and drop the second ReLU
    torch.testing.assert_close(trace_cpa(net)(x), as_double(net)(x).detach(), rtol=0, atol=1e-12)
