"""A few pretraining steps and a linear evaluation for every row at toy width; the abort on a
non-finite loss; resuming with another config fails naming the keys."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from paper_repro import linear_eval, pretrain
from paper_repro import config as C
from standin_data import eval_loader_factory, train_loader_factory

CONFIGS = Path(__file__).resolve().parents[2] / "paper_repro" / "configs"
ROWS = sorted(p.stem for p in CONFIGS.glob("*.toml") if p.stem != "tiny")
# MMI's joint covariance of 2 x 32 dims is singular on 8 samples: eps > 0 (as the objectives'
# distributed test does for small batches)
# BYOL's 4096-wide predictor is the slow part at toy width: a toy predictor too
EXTRA = {"mmi": ["--model.options.eps=0.1"], "byol": ["--model.options.predictor_hidden=32"]}


def tiny(row, root, out, *more):
    return C.load_config(CONFIGS / f"{row}.toml",
                         C.overrides_from_file(CONFIGS / "tiny.toml")
                         + [f"--data.root=\"{root}\"", f"--run.out_dir=\"{out}\""]
                         + EXTRA.get(row, []) + list(more))


@pytest.mark.parametrize("row", ROWS)
def test_row_pretrains_and_evaluates(row, imagefolder, tmp_path):
    cfg = tiny(row, imagefolder, tmp_path, "--run.max_steps=2", "--linear.epochs=1")
    res = pretrain.train(cfg, ["test"], make_loader=train_loader_factory(imagefolder))
    stats = [r for r in pretrain.read_stats(tmp_path / "stats.jsonl") if "step" in r]
    assert [r["step"] for r in stats] == [0, 1] and res["step"] == 2
    assert all(np.isfinite(r["loss"]) for r in stats)
    assert stats[0]["lr"] == 0.0  # warmup starts at 0 (warmup_cosine at step 0)
    ev = linear_eval.evaluate(tmp_path / "checkpoint.pt", imagefolder,
                              make_loader=eval_loader_factory())
    # accuracies are percentages of 16 val images: multiples of 100/16
    for acc in (ev["linear"]["top1"], ev["knn"]["top1"]):
        assert 0 <= acc <= 100 and (acc * 16 / 100) == pytest.approx(round(acc * 16 / 100))
    assert ev["linear"]["top5"] == 100.0  # 4 classes: the top 5 holds every class
    assert json.loads((tmp_path / "linear_eval.json").read_text())["paper"] == \
        cfg.to_dict()["paper"]


def test_vicreg_terms_add_up_to_the_loss(imagefolder, tmp_path):
    cfg = tiny("vicreg", imagefolder, tmp_path, "--run.max_steps=1")
    pretrain.train(cfg, [], make_loader=train_loader_factory(imagefolder))
    r = [r for r in pretrain.read_stats(tmp_path / "stats.jsonl") if "step" in r][0]
    # official weights 25, 25, 1; float32 loss, terms logged as float32 -> rel 1e-6
    assert r["loss"] == pytest.approx(25 * r["invariance"] + 25 * r["variance"]
                                      + r["covariance"], rel=1e-6)


def test_nonfinite_loss_aborts_naming_step_and_term(imagefolder, tmp_path):
    # plain SGD at lr 1e30: the weights overflow after the first update
    cfg = tiny("vicreg", imagefolder, tmp_path, "--optim.optimizer=\"sgd\"",
               "--optim.lr_rule=\"constant\"", "--optim.base_lr=1e30",
               "--optim.warmup_epochs=0.0", "--run.checkpoint_every=0")
    with pytest.raises(pretrain.NonFiniteLossError) as info:
        pretrain.train(cfg, [], make_loader=train_loader_factory(imagefolder))
    err = info.value
    assert err.step >= 1
    assert err.term in ("loss", "invariance", "variance", "covariance", "z_a", "z_b")
    assert f"step {err.step}" in str(err)
    assert not (tmp_path / "checkpoint.pt").exists()  # nothing saved, no temporary file
    assert not list(tmp_path.glob(".*tmp*"))


def test_resume_with_another_config_names_the_keys(imagefolder, tmp_path):
    cfg = tiny("simclr", imagefolder, tmp_path, "--run.max_steps=2")
    pretrain.train(cfg, [], make_loader=train_loader_factory(imagefolder))
    other = tiny("simclr", imagefolder, tmp_path, "--run.max_steps=3", "--optim.base_lr=0.5",
                 "--model.options.tau=0.3")
    with pytest.raises(ValueError, match=r"model\.options\.tau, optim\.base_lr"):
        pretrain.train(other, [], make_loader=train_loader_factory(imagefolder))


def test_ema_target_follows_the_online_encoder(imagefolder, tmp_path):
    cfg = tiny("byol", imagefolder, tmp_path, "--run.max_steps=2")
    pretrain.train(cfg, [], make_loader=train_loader_factory(imagefolder))
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    sd = ck["method"]
    online = {k[len("method.encoder."):]: v for k, v in sd.items()
              if k.startswith("method.encoder.")}
    target = {k[len("method.target."):]: v for k, v in sd.items()
              if k.startswith("method.target.")}
    assert online.keys() == target.keys()
    # after updates the EMA target differs from the online weights but is not the init
    assert any(not torch.equal(online[k], target[k]) for k in online)


def test_real_loaders_pretrain_and_evaluate(tiny_folder, tmp_path):
    # paper_repro.data's own loaders (JPEG decoding, shards) end to end, one process
    cfg = tiny("vicreg", tiny_folder, tmp_path, "--run.batch_size=6", "--run.max_steps=3",
               "--linear.epochs=1", "--linear.batch_size=6")
    res = pretrain.train(cfg, [])
    assert res["step"] == 3 and np.isfinite(res["values"]["loss"])
    calls = []

    def recording_loader(root, **kw):  # paper_repro.data's loader, noting split and transform
        calls.append((kw["train"], kw.get("augment")))
        return linear_eval.default_eval_loader(root, **kw)

    ev = linear_eval.evaluate(tmp_path / "checkpoint.pt", tiny_folder,
                              make_loader=recording_loader)
    # probe train (augmented by default), probe val, kNN bank (train, un-augmented), kNN queries
    assert calls == [(True, None), (False, None), (True, False), (False, None)]
    assert ev["knn"]["n_test"] == 6  # every val image once
    assert 0 <= ev["linear"]["top1"] <= 100
