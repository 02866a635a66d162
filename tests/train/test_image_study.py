import numpy as np
import pytest
import torch

from mitheory import train as tr
from mitheory.generative import ImageWorld


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
