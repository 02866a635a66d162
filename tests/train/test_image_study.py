import numpy as np
import pytest
import torch

from mitheory import train as tr
from mitheory.generative import ImageWorld
from mitheory.study import spawn as tr_spawn


def test_history_has_one_row_per_checkpoint_and_the_method_at_that_step():
    world = ImageWorld(image_size=32, seed=0)
    cfg = tr.ImageTrainConfig(steps=3, batch_size=4, device="cpu", progress=False)
    x = world.render(world.sample_factors(4, seed=1))

    def evaluate(step, method):
        return {"z": tr.embed_images(method, x).sum()}

    res, hist = tr.train_with_checkpoints(tr.make_image_method("simclr", width=2,
                                                               projector="8-8"),
                                          world, cfg, evaluate, at=[1, 3], seed=0)
    assert [h["step"] for h in hist] == [1, 3]
    # independent route: the plain loop with a hand-written callback, same seed
    seen = {}
    m = tr.make_image_method("simclr", width=2, projector="8-8")
    tr.train_images(m, world, cfg, seed=0,
                    callback=lambda s, mm: seen.update({s: tr.embed_images(mm, x).sum()}))
    assert [h["z"] for h in hist] == [seen[1], seen[3]]  # same numbers: exact
    assert res.losses == tr.train_images(tr.make_image_method("simclr", width=2,
                                                              projector="8-8"),
                                         world, cfg, seed=0).losses
    with pytest.raises(ValueError, match="at must"):
        tr.train_with_checkpoints(m, world, cfg, evaluate, at=[4], seed=0)


def test_sample_images_of_the_world_and_a_folder(tmp_path):
    from PIL import Image

    x, y = tr.sample_images("world", 5, seed=2)
    world = ImageWorld(image_size=32, seed=0)
    f = world.sample_factors(5, seed=2)
    assert torch.equal(x, world.render(f)) and np.array_equal(y, world.labels(f).numpy())
    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(3):
            Image.fromarray(np.full((32, 32, 3), 40 * i + (c == "b"), np.uint8)).save(
                tmp_path / c / f"{i}.png")
    x, y = tr.sample_images(f"imagefolder:{tmp_path}", 10, seed=0)  # fewer images than asked
    assert x.shape == (6, 3, 32, 32) and sorted(y.tolist()) == [0, 0, 0, 1, 1, 1]
    # constant images: the pixel value tells which file it was; class b files are odd-valued
    assert all(int(round(float(im[0, 0, 0]) * 255)) % 2 == lab for im, lab in zip(x, y))
    with pytest.raises(ValueError, match="dataset must be"):
        tr.sample_images("mnist", 4, seed=0)


def test_step_zero_is_the_initialisation_train_images_starts_from():
    world = ImageWorld(image_size=32, seed=0)
    cfg = tr.ImageTrainConfig(steps=2, batch_size=4, device="cpu", progress=False)
    x = world.render(world.sample_factors(4, seed=1))

    def evaluate(step, method):
        return {"z": tr.embed_images(method, x)}

    _, hist = tr.train_with_checkpoints(tr.make_image_method("vicreg", width=2, projector="8-8"),
                                        world, cfg, evaluate, at=[0, 2], seed=3)
    # independent route: init_image_method_ with the init stream train_images spawns from seed
    from mitheory.study import spawn
    init = tr.init_image_method_(tr.make_image_method("vicreg", width=2, projector="8-8"),
                                 spawn(3, 2)[0])
    assert [h["step"] for h in hist] == [0, 2]
    assert np.array_equal(hist[0]["z"], tr.embed_images(init, x))  # same weights: exact
    assert not np.array_equal(hist[0]["z"], hist[1]["z"])  # two AdamW steps moved the encoder


def test_train_on_schedule_is_train_with_checkpoints_on_the_stated_config():
    from types import SimpleNamespace

    world = ImageWorld(image_size=32, seed=0)
    sched = SimpleNamespace(steps=20, n_checkpoints=2, batch_size=4, lr=1e-3, device="cpu")
    res, hist = tr.train_on_schedule(tr.make_image_method("simclr", width=2, projector="8-8"),
                                     world, lambda s, m: {}, sched, seed=0, initial=True,
                                     log_every=7, progress=False)
    assert [h["step"] for h in hist] == [0, 10, 20]  # step 0 + even_checkpoints(20, 2)
    # the same run written out: warmup = 20 // 10 = 2 steps, the rest of the config as stated
    cfg = tr.ImageTrainConfig(steps=20, batch_size=4, lr=1e-3, warmup_steps=2, device="cpu",
                              log_every=7, progress=False)
    ref = tr.train_images(tr.make_image_method("simclr", width=2, projector="8-8"), world, cfg,
                          seed=0)
    assert res.losses == ref.losses  # same seed and config: the same losses, exactly
    with pytest.raises(TypeError, match="schedule"):
        tr.train_on_schedule(tr.make_image_method("simclr", width=2, projector="8-8"), world,
                             lambda s, m: {}, SimpleNamespace(steps=2), seed=0)


def test_interval_losses_average_runs_then_intervals():
    a = [(0, 4.0), (1, 2.0), (2, 1.0), (3, 1.0)]
    b = [(0, 2.0), (1, 2.0), (2, 3.0), (3, 1.0)]
    # by hand: step means 3, 2, 2, 1; intervals [0, 2) -> 2.5 and [2, 4) -> 1.5 (exact in binary)
    assert tr.interval_losses([a, b], [0, 2, 4]) == [2.5, 1.5]
    assert tr.interval_losses([a], [0, 2, 4]) == [3.0, 1.0]
    with pytest.raises(ValueError, match="same steps"):
        tr.interval_losses([a, b[:3]], [0, 2, 4])
    with pytest.raises(ValueError, match="at least one"):
        tr.interval_losses([], [0, 2])


def test_held_out_source_of_the_world_is_a_fresh_render_with_the_stated_seeds():
    world, held, aug = tr.held_out_source("imageworld", n_held_out=5, batch_size=4,
                                          augment="", seed=7)
    ref = ImageWorld(image_size=32, seed=(7, 0))
    assert aug is None and isinstance(world, ImageWorld)
    assert torch.equal(held, ref.render(ref.sample_factors(5, seed=(7, 1))))  # exact
    with pytest.raises(ValueError, match="augment"):
        tr.held_out_source("cifar10:/nowhere", n_held_out=5, batch_size=4, augment="", seed=0)


def test_knn_checkpoint_monitor_fits_the_first_half_and_scores_the_second():
    x, y = tr.sample_images("world", 40, seed=3)
    m = tr.make_image_method("simclr", width=2, projector="8-8")
    evaluate, chance = tr.knn_checkpoint_monitor(x, y, k=5)
    want = tr.knn_monitor(m, x[:20], y[:20], x[20:], y[20:], k=5)["accuracy"]  # by hand
    assert evaluate(0, m) == {"knn_accuracy": want}
    assert chance == np.bincount(y[20:]).max() / 20  # majority class of the scored half
    with pytest.raises(ValueError, match="same length"):
        tr.knn_checkpoint_monitor(x, y[:10])


def test_checkpoint_trends_and_interval_losses():
    losses = [(0, 4.0), (1, 2.0), (2, 1.0), (3, 1.01)]
    hist = [{"step": 2, "acc": 0.5}, {"step": 4, "acc": 0.52}]
    trend = tr.checkpoint_trends(hist, losses, tols={"acc": 0.03})
    # interval means by hand: steps [0, 2) -> (4 + 2) / 2, [2, 4) -> (1 + 1.01) / 2
    assert [h["loss"] for h in hist] == pytest.approx([3.0, 1.005], abs=1e-12)
    assert trend == {"loss": "still falling", "acc": "plateaued"}  # 66% drop; 0.02 <= 0.03
    with pytest.raises(ValueError, match="tols"):
        tr.checkpoint_trends([{"step": 2}], losses, tols={"acc": 0.1})
    with pytest.raises(ValueError, match="history"):
        tr.add_interval_losses([], losses)


def test_labelled_probe_data_on_the_world_uses_its_documented_streams():
    pool, test, k, views, sampler, aug = tr.labelled_probe_data(
        "imageworld", n_pool=12, n_test=6, n_unlabelled=4, batch_size=2, augment="vicreg",
        seed=0)
    world = ImageWorld(image_size=32, seed=(0, 1))
    ss = tr_spawn((0, 0), 5)
    f = world.sample_factors(12, seed=ss[0])  # the pool's stream, by hand
    assert torch.equal(pool[0], world.render(f)) and (pool[1] == world.labels(f).numpy()).all()
    assert len(test[0]) == 6 and views[0].shape == views[1].shape == (4, 3, 32, 32)
    assert k == world.n_classes and aug is None and isinstance(sampler, ImageWorld)
    with pytest.raises(ValueError, match="n_pool"):
        tr.labelled_probe_data("imageworld", n_pool=0, n_test=6, n_unlabelled=4,
                               batch_size=2, augment="vicreg", seed=0)


def test_entropy_checkpoint_monitor_scores_both_representations_by_hand():
    from mitheory import info

    x, _ = tr.sample_images("world", 30, seed=3)
    m = tr.make_image_method("simclr", width=2, projector="8-8")
    got = tr.entropy_checkpoint_monitor(x, kernel_sigma=0.7, knn_k=2)(0, m)
    for rep, feat in (("projector", "encoder"), ("backbone", "embed")):
        want = info.representation_entropies(tr.embed_images(m, x, features=feat),
                                             kernel_sigma=0.7, knn_k=2)
        for f, h in want.items():
            assert got[f"{rep}/{f}"] == h  # the same estimators on the same embeddings: exact
    assert set(tr.entropy_monitor_ingredients(knn_k=2)["representations"]) == {
        k.split("/")[0] for k in got}  # one description per representation scored
    with pytest.raises(ValueError, match="images"):
        tr.entropy_checkpoint_monitor(x[:1])


def test_history_curves_stack_trials_in_order_with_nan_for_none():
    runs = [{"method": "a", "trial": 1, "history": [{"k": {"q": 3.0}}, {"k": {"q": 4.0}}]},
            {"method": "a", "trial": 0, "history": [{"k": {"q": 1.0}}, {"k": {"q": None}}]},
            {"method": "b", "trial": 0, "history": [{"k": {"q": 5.0}}, {"k": {"q": 6.0}}]}]
    c = tr.history_curves(runs, "k", ["q"])
    assert list(c) == ["a", "b"]  # order of first appearance
    np.testing.assert_array_equal(c["a"]["q"], [[1.0, np.nan], [3.0, 4.0]])  # trials sorted
    np.testing.assert_array_equal(c["b"]["q"], [[5.0, 6.0]])
    with pytest.raises(ValueError, match="key"):
        tr.history_curves(runs, "other", ["q"])
    with pytest.raises(ValueError, match="checkpoints"):
        tr.history_curves(runs[:1] + [{**runs[1], "history": runs[1]["history"][:1]}], "k", ["q"])


def test_interval_loss_trends_per_method():
    from mitheory.stats import relative_trend_status

    runs = [{"method": "a", "train": {"losses": [(0, 4.0), (1, 2.0), (2, 1.0), (3, 1.01)]}},
            {"method": "a", "train": {"losses": [(0, 4.0), (1, 2.0), (2, 1.0), (3, 0.99)]}},
            {"method": "b", "train": {"losses": [(0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0)]}}]
    got = tr.interval_loss_trends(runs, [0, 2, 4])
    # by hand: a -> intervals (4 + 2) / 2 = 3 and (1 + 1) / 2 = 1 (66% drop); b -> flat
    assert got == {"a": relative_trend_status([3.0, 1.0]), "b": "plateaued"}
    assert got["a"] == "still falling"
    with pytest.raises(ValueError, match="runs"):
        tr.interval_loss_trends([], [0, 2])


def test_image_training_source_of_the_world_and_of_a_dataset(tmp_path):
    from mitheory.data import TwoViewAugment

    world, aug = tr.image_training_source("world", batch_size=4, seed=3, world_seed=5)
    assert isinstance(world, ImageWorld) and aug is None
    f = ImageWorld(image_size=32, seed=5).sample_factors(4, seed=0)  # the stated world seed
    assert torch.equal(world.render(f), ImageWorld(image_size=32, seed=5).render(f))
    loader, aug = tr.image_training_source("digits", batch_size=8, seed=3, n_images=40)
    assert isinstance(aug, TwoViewAugment)
    x = tr.sample_images("digits", 40, (3, 0))[0]  # the stated draw seed
    assert torch.equal(loader.dataset, x) and loader.batch_size == 8 and loader.drop_last
    # shuffled with seed 3: the same batches as an independent loader over the same images
    again = torch.utils.data.DataLoader(x, batch_size=8, shuffle=True, drop_last=True,
                                        generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(a, b) for a, b in zip(loader, again))
    with pytest.raises(ValueError, match="source"):
        tr.image_training_source("mnist", batch_size=4, seed=0)
    with pytest.raises(ValueError, match="recipe"):
        tr.image_training_source("world", batch_size=4, seed=0, recipe="nope")


def test_raw_image_distances_are_the_distances_of_each_dataset_draw():
    from mitheory.stats import pairwise_distances_vs_noise

    out = tr.raw_image_distances(["world", "digits"], 12, (0.01, 0.1), seed=(0, 2))
    assert list(out) == ["world", "digits"]
    for spec in out:  # the documented composition, recomputed
        direct = pairwise_distances_vs_noise(tr.sample_images(spec, 12, (0, 2))[0], (0.01, 0.1))
        assert out[spec] == direct
    assert (out["world"]["dim"], out["digits"]["dim"]) == (3072, 64)
    with pytest.raises(ValueError, match="datasets"):
        tr.raw_image_distances([], 12, (0.1,), seed=0)
