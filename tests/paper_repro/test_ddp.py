"""Two gloo processes (DDP, the method's gather) give the loss and gradients of one process on
the concatenated batch. BatchNorm is per rank (SyncBatchNorm is CUDA-only in torch), so the
one-process reference runs the encoder on each rank's half and the objective on the
concatenated embeddings: the semantics of DDP without SyncBatchNorm."""
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from mitheory import objectives as obj
from paper_repro import config as C
from paper_repro import pretrain

CONFIGS = Path(__file__).resolve().parents[2] / "paper_repro" / "configs"
N, WORLD = 8, 2  # global batch, processes
OBJECTIVES = {"vicreg": obj.vicreg_loss, "simclr": obj.nt_xent_loss}


def _cfg(row):
    return C.load_config(CONFIGS / f"{row}.toml", C.overrides_from_file(CONFIGS / "tiny.toml")
                         + ["--data.root=\"unused\"", f"--run.batch_size={N}"])


def _batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(N, 3, 32, 32, generator=g), torch.randn(N, 3, 32, 32, generator=g)


def _worker(rank, init_file, out_file):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=WORLD)
    results = {}
    try:
        for row in OBJECTIVES:
            for gather in (True, False):  # False: what a missing gather gives (must differ)
                method = pretrain.build_method(_cfg(row))
                method.gather = gather
                model = nn.parallel.DistributedDataParallel(pretrain.LossModule(method))
                x1, x2 = _batch()
                h = N // WORLD
                loss, values = pretrain.forward_loss(model, x1[rank * h:(rank + 1) * h],
                                                     x2[rank * h:(rank + 1) * h], 0, WORLD)
                loss.backward()  # DDP averages the gradients over ranks
                results[row, gather] = {"values": values, "grads": {
                    k: p.grad.clone() for k, p in method.named_parameters()
                    if p.grad is not None}}
        if rank == 0:
            torch.save(results, out_file)
    finally:
        dist.destroy_process_group()


def _reference(row):
    cfg = _cfg(row)
    method = pretrain.build_method(cfg)
    enc = method.method.encoder
    x1, x2 = _batch()
    h = N // WORLD
    z1 = torch.cat([enc(x1[:h]), enc(x1[h:])])  # per-rank BatchNorm statistics
    z2 = torch.cat([enc(x2[:h]), enc(x2[h:])])
    loss = OBJECTIVES[row](z1, z2, **cfg.model.options)  # the objective itself, no gather
    loss.backward()
    grads = {k: p.grad for k, p in method.named_parameters() if p.grad is not None}
    return float(loss.detach()), grads


@pytest.fixture(scope="module")
def two_process_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(tmp / "init", tmp / "rank0.pt"), nprocs=WORLD, join=True)
    return torch.load(tmp / "rank0.pt", weights_only=False)


# two spawned gloo processes importing torch: ~12 s on the idle 2-core machine (in CI)
@pytest.mark.parametrize("row", sorted(OBJECTIVES))
def test_two_processes_match_one_on_the_concatenated_batch(row, two_process_results):
    got, without_gather = two_process_results[row, True], two_process_results[row, False]
    ref_loss, ref_grads = _reference(row)
    # float32: the same sums in another order (per-rank partial sums, then all-reduce); the
    # relative rounding of an n-term float32 sum is at most ~n * 6e-8, ~1e-5 for these sizes
    assert got["values"]["loss"] == pytest.approx(ref_loss, rel=1e-5)
    assert got["grads"].keys() == ref_grads.keys()
    for k, g in ref_grads.items():
        torch.testing.assert_close(got["grads"][k], g, rtol=1e-4, atol=1e-6, msg=k)
    # the check has teeth: without the gather, batch statistics are per rank and differ
    assert without_gather["values"]["loss"] != pytest.approx(ref_loss, rel=1e-3)
