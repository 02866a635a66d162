"""Config validation: every row's TOML loads; bad keys, types and values fail naming the key."""
from pathlib import Path

import pytest

from paper_repro import config as C

CONFIGS = Path(__file__).resolve().parents[2] / "paper_repro" / "configs"
ROWS = sorted(p.stem for p in CONFIGS.glob("*.toml") if p.stem != "tiny")


def test_every_table_row_has_a_config():
    assert ROWS == sorted(["er", "vicreg", "simclr", "byol", "mmi", "spectral", "minc",
                           "vicreg_logdet", "vicreg_kl", "vicreg_bhattacharyya"])


@pytest.mark.parametrize("row", ROWS)
def test_row_loads_and_names_its_method(row):
    cfg = C.load_config(CONFIGS / f"{row}.toml")
    assert cfg.model.method == row  # each row trains the registry method of its name
    # the [paper] table: a number with its source, or 0 with a source saying why there is none
    assert cfg.paper.source


def test_vicreg_row_is_the_official_recipe():
    # dossier vicreg_infotheory.md section 10.2: lr = 0.2 * 2048 / 256, LARS wd 1e-6
    cfg = C.load_config(CONFIGS / "vicreg.toml")
    assert cfg.peak_lr() == pytest.approx(0.2 * 2048 / 256, rel=1e-12)  # exact arithmetic
    assert (cfg.optim.optimizer, cfg.optim.weight_decay, cfg.optim.warmup_epochs) == \
        ("lars", 1e-6, 10.0)
    assert (cfg.paper.top1, cfg.paper.epochs) == (73.2, 1000)


def test_er_row_carries_c5():
    cfg = C.load_config(CONFIGS / "er.toml")
    assert (cfg.paper.top1, cfg.paper.epochs, cfg.optim.epochs) == (69.7, 400, 400)
    assert "optim.base_lr" in cfg.paper.reconstructed


def test_override_applies_typed_value():
    cfg = C.load_config(CONFIGS / "vicreg.toml", ["--optim.base_lr=0.3",
                                                  "--model.options.sim_weight=10"])
    assert cfg.optim.base_lr == 0.3 and cfg.model.options["sim_weight"] == 10


@pytest.mark.parametrize("override, key", [
    (["--optim.base_lrr=0.3"], "optim.base_lrr"),          # unknown key
    (["--run.batch_size=\"big\""], "run.batch_size"),      # wrong type
    (["--optim.base_lr=-0.1"], "optim.base_lr"),           # impossible value
    (["--model.method=\"vicregg\""], "model.method"),      # unknown method
    (["--run.precision=\"fp16\""], "run.precision"),       # unknown option
])
def test_bad_override_names_the_key(override, key):
    with pytest.raises((ValueError, TypeError), match=key.replace(".", r"\.")):
        C.load_config(CONFIGS / "vicreg.toml", override)


def test_unknown_method_lists_the_registry():
    with pytest.raises(ValueError, match="simclr"):  # the message lists the registry's names
        C.load_config(CONFIGS / "vicreg.toml", ["--model.method=\"nope\""])


def test_batch_not_divisible_by_world_size():
    cfg = C.load_config(CONFIGS / "vicreg.toml", ["--run.batch_size=2050"])
    with pytest.raises(ValueError, match=r"run\.batch_size=2050.*world size 8"):
        C.check_world_size(cfg, 8)
    assert C.check_world_size(C.load_config(CONFIGS / "vicreg.toml"), 32) == 64  # README split


def test_config_diff_names_keys():
    a = C.load_config(CONFIGS / "vicreg.toml").to_dict()
    b = C.load_config(CONFIGS / "vicreg.toml", ["--optim.base_lr=0.3",
                                                "--run.log_every=7"]).to_dict()
    assert C.config_diff(a, b) == ["optim.base_lr"]  # log_every may change on resume


def test_overlay_and_cli_parse(tmp_path):
    cfg, _ = C.parse_args(["--config", str(CONFIGS / "byol.toml"), "--overlay",
                           str(CONFIGS / "tiny.toml"), "--model.width=2"])
    assert (cfg.model.width, cfg.data.image_size, cfg.run.precision) == (2, 32, "fp32")
    with pytest.raises(ValueError, match="--config"):
        C.parse_args(["--model.width=2"])
