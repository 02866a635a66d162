"""paper_repro.benchmark: the FLOP counter against a hand count and against torch's own counter,
the toy-scale run on CPU (every phase, positive finite rates, JSON), the bottleneck verdict's
arithmetic, and bad arguments naming the argument."""
import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from paper_repro import benchmark as B
from paper_repro import config as C
from paper_repro.pretrain import build_method

CONFIGS = Path(__file__).resolve().parents[2] / "paper_repro" / "configs"


def tiny_cfg(*more):
    return C.load_config(CONFIGS / "vicreg.toml", C.overrides_from_file(CONFIGS / "tiny.toml")
                         + ["--data.synthetic=true", "--data.image_size=16", *more])


class ConvLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)  # (2, 3, 8, 8) -> (2, 4, 8, 8)
        self.grouped = nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=2)  # -> (2, 4, 4, 4)
        self.fc = nn.Linear(64, 5)  # (2, 64) -> (2, 5)

    def forward(self, x):
        return self.fc(self.grouped(torch.relu(self.conv(x))).flatten(1))


def test_flop_counter_matches_a_hand_count():
    net, x = ConvLinear(), torch.randn(2, 3, 8, 8)
    with B.FlopCounter(net) as fc:
        net(x).sum().backward()
    conv = 2 * (2 * 4 * 8 * 8) * (3 * 3 * 3)  # 2 * out elements * (in/groups * kh * kw) = 27,648
    grouped = 2 * (2 * 4 * 4 * 4) * (2 * 3 * 3)  # in/groups = 2: 4,608
    fc_ = 2 * (2 * 5) * 64  # 2 * out elements * in_features = 1,280
    assert fc.calls == 3
    assert fc.forward == conv + grouped + fc_  # exact: integers in float64
    # backward: weight grads of all three, input grads of the two whose input needs one
    assert fc.backward == conv + 2 * grouped + 2 * fc_
    assert fc.train == fc.forward + fc.backward
    with torch.no_grad(), B.FlopCounter(net) as frozen:  # no graph: no backward counted
        net(x)
    assert frozen.forward == fc.forward and frozen.backward == 0
    assert not net.conv._forward_hooks  # the hooks are removed on exit


def test_flop_counter_matches_torch_flop_counter_on_the_tiny_resnet():
    # an independent implementation: torch.utils.flop_counter counts the aten conv / mm ops,
    # forward and backward; the encoder's (backbone + projector) sum has no other matmul
    enc = build_method(tiny_cfg()).method.encoder
    x = torch.randn(3, 3, 16, 16)
    with B.FlopCounter(enc) as fc:
        enc(x).sum().backward()
    with FlopCounterMode(display=False) as ref:
        enc(x).sum().backward()
    assert fc.train == ref.get_total_flops()  # exact: the same integer count
    with torch.no_grad(), FlopCounterMode(display=False) as ref_fwd:
        enc(x)
    assert fc.forward == ref_fwd.get_total_flops()


def test_benchmark_runs_at_toy_scale_on_cpu(tiny_folder, tmp_path):
    out = tmp_path / "bench.json"
    rec = B.main(["--overlay", str(CONFIGS / "tiny.toml"), "--data.image_size=16",
                  "--data", str(tiny_folder), "--steps", "2", "--warmup", "1",
                  "--batch-size", "4", "--device", "cpu", "--matmul-size", "64",
                  "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["bottleneck"] == rec["bottleneck"] and saved["device"] == "cpu"
    for phase in ("synthetic", "real", "loader"):
        for key in ("images_per_s", "images_per_s_second_half", "step_ms_median"):
            assert math.isfinite(saved[phase][key]) and saved[phase][key] > 0, (phase, key)
    assert saved["loader"]["cpu_side_images_per_s"] > 0
    assert saved["matmul"]["tflops"] > 0 and saved["matmul"]["dtype"] == "float32"  # fp32 toy
    f = saved["flops"]
    assert 0 < f["forward_per_image"] < f["train_per_image"] < 3 * f["forward_per_image"]
    for phase in ("synthetic", "real"):  # achieved = rate x FLOPs per image, by definition
        p = saved[phase]
        assert p["achieved_tflops"] == pytest.approx(p["images_per_s"] * f["train_per_image"]
                                                     / 1e12, rel=1e-12)
        assert p["fraction_of_matmul"] == pytest.approx(p["achieved_tflops"]
                                                        / saved["matmul"]["tflops"], rel=1e-12)
    assert saved["target"]["applies"] is False and saved["target"]["synthetic_met"] is None
    assert "workers = 0" in saved["bottleneck"]["verdict"]  # tiny.toml: loading in-process


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_benchmark_on_cuda_in_bf16_counts_the_cpu_flops(tiny_folder):
    # bf16 autocast, channels_last, CUDA synchronisation, the real loader's device ops on the
    # GPU; FLOPs per image do not depend on the device: equal to the CPU count exactly
    more = ["--run.precision=\"bf16\"", "--run.channels_last=true"]
    kw = dict(data_root=str(tiny_folder), steps=2, warmup=1, batch_size=4, matmul_size=256,
              log=lambda s: None)
    gpu = B.run_benchmark(tiny_cfg("--run.device=\"cuda\"", *more), **kw)
    cpu = B.run_benchmark(tiny_cfg("--run.device=\"cpu\"", *more), **kw)
    assert gpu["device"].startswith("cuda") and gpu["matmul"]["dtype"] == "bfloat16"
    assert gpu["flops"]["train_per_image"] == cpu["flops"]["train_per_image"]
    for phase in ("synthetic", "real", "loader"):
        assert math.isfinite(gpu[phase]["images_per_s"]) and gpu[phase]["images_per_s"] > 0
    assert gpu["bottleneck"]["loader_bound"] in (True, False)


def _rec(syn, real, loader, workers=8):
    rate = {"images_per_s_second_half": math.nan}
    return {"synthetic": {"images_per_s": syn}, "workers": workers,
            "real": {**rate, "images_per_s": real}, "loader": {**rate, "images_per_s": loader}}


def test_bottleneck_verdict_arithmetic():
    v = B.bottleneck_verdict(_rec(3000, 2400, 2500))
    assert v["loader_bound"] is True and v["loader_cap"] == pytest.approx(2500 / 3000)
    assert v["real_over_synthetic"] == pytest.approx(0.8) and "IS the bottleneck" in v["verdict"]
    assert "83%" in v["verdict"]  # 2500 / 3000
    v = B.bottleneck_verdict(_rec(3000, 2900, 6000))
    assert v["loader_bound"] is False and "not the bottleneck" in v["verdict"]
    assert v["serial_bound_images_per_s"] == pytest.approx(2000)  # 1 / (1/3000 + 1/6000)
    # the second half of a window, when slower, is the sustained rate (a prefetched burst)
    rec = _rec(3000, 2900, 6000)
    rec["loader"]["images_per_s_second_half"] = 1500
    assert B.bottleneck_verdict(rec)["loader_bound"] is True
    assert B.bottleneck_verdict({"synthetic": {"images_per_s": 1.0}, "real": None,
                                 "loader": None})["loader_bound"] is None


@pytest.mark.parametrize("kw, match", [
    (dict(steps=0), "steps"), (dict(warmup=-1), "warmup"), (dict(batch_size=1), "batch_size"),
    (dict(matmul_size=0), "matmul_size"), (dict(data_root="/nonexistent"), "data_root"),
])
def test_bad_arguments_name_the_argument(kw, match):
    with pytest.raises(ValueError, match=match):
        B.run_benchmark(tiny_cfg("--run.device=\"cpu\""), **kw)


def test_bad_module_and_matmul_arguments():
    with pytest.raises(TypeError, match="module"):
        B.FlopCounter("resnet")
    with pytest.raises(ValueError, match="size"):
        B.matmul_tflops("cpu", size=0, dtype=torch.float32)
