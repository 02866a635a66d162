"""Kill-and-resume: a run SIGKILLed at a random step after a checkpoint, then resumed, logs the
same loss curve as an uninterrupted run (exactly: same CPU kernels, one thread, same order)."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import torch

from paper_repro import pretrain
from standin_data import train_loader_factory

CONFIGS = Path(__file__).resolve().parents[2] / "paper_repro" / "configs"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STEPS, EVERY = 8, 2  # 2 epochs of 32 images at batch 8; a checkpoint every 2 steps


def _args(root, out):
    return ["--config", str(CONFIGS / "vicreg.toml"), "--overlay", str(CONFIGS / "tiny.toml"),
            f"--data.root=\"{root}\"", f"--run.out_dir=\"{out}\"",
            f"--run.checkpoint_every={EVERY}"]


def _losses(out):
    return [(r["step"], r["epoch"], r["lr"], r["loss"], r["variance"])
            for r in pretrain.read_stats(Path(out) / "stats.jsonl") if "step" in r]


def test_stopped_run_resumes_to_the_same_curve(imagefolder, tmp_path):
    # in-process: stop at step 5 (run.max_steps saves a checkpoint there), resume to the end
    full, part = tmp_path / "full", tmp_path / "part"
    pretrain.main(_args(imagefolder, full), make_loader=train_loader_factory(imagefolder))
    pretrain.main(_args(imagefolder, part) + ["--run.max_steps=5"],
                  make_loader=train_loader_factory(imagefolder))
    assert len(_losses(part)) == 5
    pretrain.main(_args(imagefolder, part), make_loader=train_loader_factory(imagefolder))
    assert _losses(part) == _losses(full)  # exactly equal: same kernels, order and states


# a subprocess SIGKILLed and resumed: ~8 s on the idle 2-core machine (in CI)
def test_killed_run_resumes_to_the_same_curve(imagefolder, tmp_path):
    full = tmp_path / "full"
    pretrain.main(_args(imagefolder, full), make_loader=train_loader_factory(imagefolder))
    expected = _losses(full)
    assert [s for s, *_ in expected] == list(range(STEPS))

    kill_at = int(np.random.default_rng(0).integers(EVERY + 1, STEPS))  # after a checkpoint
    out = tmp_path / "killed"
    script = textwrap.dedent(f"""
        import sys, torch
        torch.set_num_threads(1)
        sys.path.insert(0, {str(HERE)!r})
        from standin_data import train_loader_factory
        from paper_repro import pretrain
        pretrain.main({_args(imagefolder, out)!r},
                      make_loader=train_loader_factory({str(imagefolder)!r}, stall_at={kill_at}))
    """)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until step kill_at - 1 is logged
            if proc.poll() is not None:
                raise AssertionError(f"the run ended before the kill (rc {proc.returncode})")
            if (out / "stats.jsonl").exists() and any(
                    s == kill_at - 1 for s, *_ in _losses(out)):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the run did not reach the kill step in 120 s")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the checkpoint on disk is the last one before the kill
    assert torch.load(out / "checkpoint.pt", weights_only=False)["step"] == \
        (kill_at // EVERY) * EVERY
    assert not list(out.glob(".*tmp*"))  # no temporary file left behind

    pretrain.main(_args(imagefolder, out), make_loader=train_loader_factory(imagefolder))
    assert _losses(out) == expected  # every logged value equal, not merely close
