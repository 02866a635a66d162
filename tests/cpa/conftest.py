"""Small CPA networks shared by the cpa tests (float32 modules; the library works in float64)."""
import copy

import pytest
import torch
from torch import nn

from mitheory.cpa import Abs, cpa_cnn, cpa_mlp, cpa_resnet


def _cnn_mixed_pools():
    """Max pooling with padding and stride 1 next to average pooling and a bias-free conv."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.LeakyReLU(0.2),
                        nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(3, 4, 3, bias=False),
                        Abs(), nn.AvgPool2d(2), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4, 3))
    with torch.no_grad():
        net[1].running_mean.uniform_(-0.2, 0.2)
        net[1].running_var.uniform_(0.5, 2.0)
    return net.eval()


NETWORKS = {
    "mlp_relu": (lambda: cpa_mlp([5, 12, 12, 3], seed=0), (5,)),
    "mlp_leaky_bn": (lambda: cpa_mlp([5, 12, 12, 3], activation="leaky_relu",
                                      negative_slope=0.1, batch_norm=True, seed=1), (5,)),
    "mlp_abs": (lambda: cpa_mlp([5, 12, 12, 3], activation="abs", seed=2), (5,)),
    "cnn_maxpool": (lambda: cpa_cnn((1, 8, 8), channels=(3, 4), out_dim=3, seed=3), (1, 8, 8)),
    "cnn_mixed_pools": (_cnn_mixed_pools, (2, 6, 6)),
    "resnet": (lambda: cpa_resnet((2, 6, 6), widths=(3, 4), out_dim=3, seed=4), (2, 6, 6)),
}


@pytest.fixture(autouse=True, scope="package")
def _one_torch_thread():
    """These tests push small tensors: on a busy 2-core machine two OpenMP threads made them
    ~5x slower (measured 84 s vs 15 s), so they run on one thread, restored afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(params=sorted(NETWORKS))
def network(request):
    """(name, float32 module, input shape)."""
    make, shape = NETWORKS[request.param]
    return request.param, make(), shape


def as_double(net: nn.Module) -> nn.Module:
    """A float64 copy of a module (the original stays float32)."""
    return copy.deepcopy(net).double()
