"""Benchmark: batched CPA region maps vs a naive per-input autograd-Jacobian loop.

Region maps (code, A, b) for ``--n-inputs`` inputs through an MLP of ``--depth`` hidden layers of
width ``--width`` (ReLU), computed in one batched forward-mode pass per chunk (no Python loop per
input), against ``torch.autograd.functional.jacobian`` called once per input on a subsample,
both in float64 in the same run. Also times the batched boundary distances and exit bounds.

Run:    python -m benchmarks.bench_cpa [--n-inputs 10000] [--width 512] [--depth 4]
Writes: nothing (``... | tee benchmarks/results_cpa.txt`` records a run)
"""
from __future__ import annotations

import argparse
import copy
import os
import platform
import time

import numpy as np
import torch

from mitheory.cpa import (
    boundary_distance,
    cpa_mlp,
    exit_probability_bounds,
    region_affine_map,
    trace_cpa,
)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def naive_region_maps(net: torch.nn.Module, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One autograd Jacobian per input (float64): the loop the batched version replaces."""
    dnet = copy.deepcopy(net).double()
    slopes, offsets = [], []
    for xi in torch.as_tensor(x):
        jac = torch.autograd.functional.jacobian(lambda t: dnet(t[None])[0], xi)
        slopes.append(jac.numpy())
        offsets.append(dnet(xi[None])[0].detach().numpy() - jac.numpy() @ xi.numpy())
    return np.stack(slopes), np.stack(offsets)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-inputs", type=int, default=10_000)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--depth", type=int, default=4, help="hidden ReLU layers")
    p.add_argument("--dim-in", type=int, default=32)
    p.add_argument("--dim-out", type=int, default=16)
    p.add_argument("--n-naive", type=int, default=200, help="subsample for the naive loop")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    dims = [a.dim_in, *[a.width] * a.depth, a.dim_out]
    net = cpa_mlp(dims, seed=a.seed).to(a.device)
    x = np.random.default_rng(a.seed).standard_normal((a.n_inputs, a.dim_in))
    print(f"# bench_cpa  torch {torch.__version__}  {platform.platform()}  "
          f"cpus={os.cpu_count()} torch_threads={torch.get_num_threads()}  device={a.device}")
    print(f"# MLP {'-'.join(map(str, dims))} (ReLU), float64, n_inputs={a.n_inputs}")
    cnet, t_trace = _timed(lambda: trace_cpa(net))
    rm, t_batch = _timed(lambda: region_affine_map(cnet, x, method="reverse"))
    rm_fwd, t_fwd = _timed(lambda: region_affine_map(cnet, x, method="forward"))
    _, t_dist = _timed(lambda: boundary_distance(cnet, x))
    _, t_exit = _timed(lambda: exit_probability_bounds(cnet, x, 1e-4))
    sub = x[: a.n_naive]
    (a_naive, b_naive), t_naive = _timed(lambda: naive_region_maps(net.cpu(), sub))
    per_batch, per_naive = t_batch / a.n_inputs, t_naive / len(sub)
    print(f"trace (float64 snapshot)                 {t_trace * 1e3:10.1f} ms")
    print(f"region_affine_map, batched reverse mode  {t_batch:10.3f} s  "
          f"({per_batch * 1e6:8.1f} us/input)")
    print(f"region_affine_map, batched forward mode  {t_fwd:10.3f} s  "
          f"({t_fwd / a.n_inputs * 1e6:8.1f} us/input)")
    print(f"boundary_distance, batched (forward)     {t_dist:10.3f} s")
    print(f"exit_probability_bounds, batched         {t_exit:10.3f} s")
    print(f"naive autograd loop, {len(sub)} inputs         {t_naive:10.3f} s  "
          f"({per_naive * 1e6:8.1f} us/input)")
    print(f"speed-up per input, naive / batched reverse: {per_naive / per_batch:.1f}x; "
          f"naive / batched forward: {per_naive * a.n_inputs / t_fwd:.1f}x")
    print(f"naive loop extrapolated to {a.n_inputs} inputs: {per_naive * a.n_inputs:.1f} s")
    print(f"max |A_batched - A_autograd| on the subsample: "
          f"{np.abs(rm.A[: len(sub)] - a_naive).max():.2e}")
    print(f"max |b_batched - b_autograd| on the subsample: "
          f"{np.abs(rm.b[: len(sub)] - b_naive).max():.2e}")
    print(f"max |A_forward - A_reverse| over all inputs: {np.abs(rm.A - rm_fwd.A).max():.2e}")


if __name__ == "__main__":
    main()
