"""Reusable check that a loss's ``gather=True`` gradients are right under torch.distributed.

``distributed_results(losses)`` spawns ``world_size`` gloo processes on 127.0.0.1; rank ``r``
holds rows ``r*n:(r+1)*n`` of a fixed float64 batch, builds embeddings ``z = tanh(x @ W)`` with a
shared parameter ``W``, calls ``loss_fn(z_a, z_b, gather=True)`` and backpropagates. It returns,
per loss, the mean over ranks of the loss values and of ``W.grad`` (DDP averages gradients), to
compare with ``single_process_results`` on the concatenated batch. Add a loss by adding a
picklable callable ``(z_a, z_b, *, gather) -> Tensor`` (e.g. a ``functools.partial`` of a
public function) to the dict passed in.
"""
from __future__ import annotations

import os
import socket
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

N_SAMPLES, DIM_IN, DIM_Z = 8, 3, 4

# "forkserver" with torch and the losses preloaded: the server imports them once and the ranks
# are forked from it (fork-safe: the server never ran a torch op), instead of each rank paying
# the ~5 s torch import of "spawn" on a contended 2-core machine.
START_METHOD = "forkserver"
_PRELOAD = ["torch", "torch.distributed", "mitheory.objectives"]


def make_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fixed two-view batch (x_a, x_b) and parameter W, float64."""
    g = torch.Generator().manual_seed(1234)
    x_a = torch.randn(N_SAMPLES, DIM_IN, generator=g, dtype=torch.float64)
    x_b = x_a + 0.3 * torch.randn(N_SAMPLES, DIM_IN, generator=g, dtype=torch.float64)
    w = torch.randn(DIM_IN, DIM_Z, generator=g, dtype=torch.float64)
    return x_a, x_b, w


def _loss_and_grad(loss_fn, x_a, x_b, w0, gather):
    w = w0.clone().requires_grad_()
    loss = loss_fn(torch.tanh(x_a @ w), torch.tanh(x_b @ w), gather=gather)
    loss.backward()
    return loss.detach(), w.grad.detach()


def single_process_results(losses: dict) -> dict:
    """Loss and gradient of each loss on the full batch, without torch.distributed."""
    x_a, x_b, w = make_batch()
    return {name: _loss_and_grad(fn, x_a, x_b, w, gather=False) for name, fn in losses.items()}


def _worker(rank: int, world_size: int, port: int, losses: dict, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size)
    try:
        x_a, x_b, w = make_batch()
        n = N_SAMPLES // world_size
        rows = slice(rank * n, (rank + 1) * n)
        res = {name: _loss_and_grad(fn, x_a[rows], x_b[rows], w, gather=True)
               for name, fn in losses.items()}
        torch.save(res, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distributed_results(losses: dict, world_size: int = 2) -> dict:
    """Per loss: (mean over ranks of the loss, mean over ranks of dL/dW), gather=True."""
    if N_SAMPLES % world_size:
        raise ValueError(f"world_size must divide {N_SAMPLES}, got {world_size}")
    if START_METHOD == "forkserver":
        mp.get_context("forkserver").set_forkserver_preload(_PRELOAD)
    with tempfile.TemporaryDirectory() as out_dir:
        mp.start_processes(_worker, args=(world_size, _free_port(), losses, out_dir),
                           nprocs=world_size, join=True, start_method=START_METHOD)
        per_rank = [torch.load(os.path.join(out_dir, f"rank{r}.pt")) for r in range(world_size)]
    return {name: (sum(r[name][0] for r in per_rank) / world_size,
                   sum(r[name][1] for r in per_rank) / world_size) for name in losses}
