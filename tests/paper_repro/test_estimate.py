"""paper_repro.estimate: GPU-hours and wall time against a hand computation, the rate's source
(command line, a benchmark JSON, the published assumption), and bad arguments naming them."""
import json

import pytest

from paper_repro import estimate as E

ROWS = {"byol", "er", "minc", "mmi", "simclr", "spectral", "vicreg", "vicreg_bhattacharyya",
        "vicreg_kl", "vicreg_logdet"}


def test_arithmetic_by_hand():
    # 1000 epochs x 1,281,167 images / (3000 img/s x 3600 s/h) = 1,281,167,000 / 10,800,000
    assert E.gpu_hours(1000, 3000) == pytest.approx(118.62657407407407, rel=1e-12)
    assert E.wall_hours(118.62657407407407, 8, 0.8) == pytest.approx(118.62657407407407 / 6.4,
                                                                     rel=1e-12)
    assert E.wall_hours(10.0, 1, 0.5) == 10.0  # one GPU: no scaling loss
    assert E.ASSUMED_SCALING_EFFICIENCY == pytest.approx(0.8411, abs=1e-4)  # 16621 / 19760


def test_rows_with_a_given_rate(capsys):
    rows = E.main(["--gpus", "8", "--images-per-s", "3000", "--scaling-efficiency", "0.8"])
    by = {r["row"]: r for r in rows}
    assert set(by) == ROWS  # every row config, tiny.toml left out
    v = by["vicreg"]
    assert (v["epochs"], v["images"], v["paper_top1"], v["paper_epochs"]) == \
        (1000, 1_281_167, 73.2, 1000)  # configs/vicreg.toml's [optim] and [paper]
    assert v["gpu_hours"] == pytest.approx(1000 * 1_281_167 / (3000 * 3600), rel=1e-12)
    assert v["wall_hours"] == pytest.approx(v["gpu_hours"] / (8 * 0.8), rel=1e-12)
    assert by["er"]["gpu_hours"] == pytest.approx(400 * 1_281_167 / (3000 * 3600), rel=1e-12)
    assert all(r["rate_source"].startswith("given") for r in rows)
    out = capsys.readouterr().out
    assert "| vicreg | vicreg | 1000 | 1,281,167 | 3,000 [1] | 118.6 |" in out
    assert "given on the command line" in out


def test_default_rate_is_the_labelled_published_assumption():
    rows = E.estimate_rows(gpus=1)
    rate, source = E.ASSUMED_IMAGES_PER_S["resnet50"]
    assert rate == 2470 / 2  # NVIDIA's single-view A100 AMP rate, two views (facts B.1, B.6)
    for r in rows:
        assert r["images_per_s_per_gpu"] == rate and r["rate_source"] == source
        assert "ASSUMED" in r["rate_source"] and r["wall_hours"] == r["gpu_hours"]


def _bench(tmp_path, **over):
    rec = {"method": "vicreg", "arch": "resnet50", "width": 64, "image_size": 224,
           "batch_size": 256, "device_name": "NVIDIA H200", "precision": "bf16",
           "synthetic": {"images_per_s": 3200.0},
           "bottleneck": {"real_images_per_s": 2900.0}} | over
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(rec))
    return path


def test_rate_from_a_benchmark_json(tmp_path):
    by = {r["row"]: r for r in E.estimate_rows(gpus=4, benchmark=_bench(tmp_path))}
    assert by["vicreg"]["images_per_s_per_gpu"] == 2900.0  # the real-loader rate, not 3200
    assert by["vicreg"]["rate_source"].startswith("measured")
    assert by["simclr"]["rate_source"].startswith("ASSUMED from the vicreg measurement")
    syn = E.estimate_rows(benchmark=_bench(tmp_path, bottleneck={"real_images_per_s": None}))
    assert syn[0]["images_per_s_per_gpu"] == 3200.0  # no real loader: the synthetic rate
    toy = E.estimate_rows(benchmark=_bench(tmp_path, arch="resnet18", image_size=32))
    assert all(r["gpu_hours"] is None and "another backbone" in r["rate_source"] for r in toy)


@pytest.mark.parametrize("kw, match", [
    (dict(gpus=0), "gpus"), (dict(images_per_s=-1.0), "images_per_s"),
    (dict(efficiency=1.5), "efficiency"), (dict(efficiency=0.0), "efficiency"),
    (dict(benchmark="/nonexistent.json"), "benchmark"),
    (dict(images_per_s=10.0, benchmark="x.json"), "not both"),
])
def test_bad_arguments_name_the_argument(kw, match):
    with pytest.raises(ValueError, match=match):
        E.estimate_rows(**kw)


def test_bad_benchmark_file_and_numbers(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"synthetic": {}}')
    with pytest.raises(ValueError, match="not a paper_repro.benchmark JSON"):
        E.estimate_rows(benchmark=bad)
    with pytest.raises(ValueError, match="positive rate"):
        E.estimate_rows(benchmark=_bench(tmp_path, synthetic={"images_per_s": float("nan")},
                                         bottleneck={}))
    with pytest.raises(ValueError, match="epochs"):
        E.gpu_hours(0, 100.0)
    with pytest.raises(ValueError, match="configs"):
        E.estimate_rows(configs=tmp_path)
