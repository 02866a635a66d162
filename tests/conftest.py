"""Shared pytest setup: Agg backend, the ``slow`` marker behind ``--runslow``."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    # one thread per test process: the models are tiny, and several xdist workers share 2 cores
    # (oversubscribed OpenMP threads made small matmuls ~15x slower when measured here)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    # BLAS too, as run_study does: numpy/scipy threads only contend on these small problems
    config._blas_limit = threadpool_limits(1)
