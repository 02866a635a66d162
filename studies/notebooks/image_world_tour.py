# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # A tour of the image world: factors, view pairs, and a short SSL run
#
# ``mitheory.generative.ImageWorld`` renders 32x32 RGB images from eight factors with a known
# joint law. View pairs follow the content/style design of von Kuegelgen et al. (2021): both
# views share the **content** (shape class, position, scale) and each **style** factor
# (rotation, object and background hue, stripe texture) is resampled with probability
# ``p_change``. A representation that is invariant across the two views must then keep the
# content and may drop the style (their Thm. 4.4; claim C3 of the ledger).
#
# The tour:
#
# 1. the factors and their ranges;
# 2. a grid of view pairs, saved as a png;
# 3. a few steps of SimCLR on a tiny ResNet-18, then a linear probe of the class on the frozen
#    backbone features, against chance and against the same probe on the untrained encoder.
#
# Sizes are tiny so the notebook runs in seconds on a laptop CPU; the study
# ``python -m studies.image_identifiability`` does the same with four objectives, longer
# training and the R^2 of every factor.

# %%
import tempfile
from pathlib import Path

import torch

from mitheory import train as tr
from mitheory.generative import ImageWorld
from mitheory.plotting import subplots

SEED = 0
world = ImageWorld(image_size=32, p_change=1.0, seed=SEED)

# %% [markdown]
# ## 1. Factors
#
# The columns of ``sample_factors``: the class is an integer id over ``shape_names``, the
# others are continuous. Hues and rotation are circular (the identifiability metrics score them
# as cosine and sine).

# %%
for j, name in enumerate(world.factor_names):
    role = "content" if j in world.content_idx else "style"
    rng = world.factor_ranges.get(name, (0, world.n_classes - 1))
    print(f"{name:15s} {role:8s} range {rng}")
print("shapes:", ", ".join(world.shape_names))

# %% [markdown]
# ## 2. View pairs
#
# Each column is one pair: the top image is ``x``, the bottom ``x_tilde``. Class, position and
# scale agree; rotation, colours and stripes are redrawn.

# %%
pairs = world.sample_pairs(8, seed=1)
fig, axes = subplots(2, 8, axsize=(0.9, 0.9))
for i in range(8):
    for row, x in enumerate((pairs.x, pairs.x_tilde)):
        axes[row][i].imshow(x[i].permute(1, 2, 0).numpy())
        axes[row][i].set_axis_off()
    axes[0][i].set_title(world.shape_names[int(pairs.z[i, 0])], fontsize=7)
out = Path(tempfile.mkdtemp()) / "image_world_pairs.png"
fig.savefig(out, dpi=80)
print("wrote", out)

# %% [markdown]
# ## 3. A short SSL run and its linear probe
#
# SimCLR (NT-Xent on the projector output) on a ResNet-18 of base width 4, 20 steps of 32
# pairs. The probe is logistic regression on standardised frozen backbone features (the
# papers' linear-evaluation protocol at toy scale). Twenty steps are far from convergence: the
# point is the workflow, and the study reports where the numbers plateau.

# %%
cfg = tr.ImageTrainConfig(steps=20, batch_size=32, lr=2e-3, warmup_steps=2, device="cpu",
                          progress=False)
method = tr.make_image_method("simclr", width=4, projector="64-64")
result = tr.train_images(method, world, cfg, seed=SEED)
print("loss at steps", [(s, round(v, 3)) for s, v in result.losses])

fit, ev = world.sample_factors(500, seed=2), world.sample_factors(300, seed=3)
x_fit, x_ev = world.render(fit), world.render(ev)
y_fit, y_ev = world.labels(fit).numpy(), world.labels(ev).numpy()
random_encoder = tr.init_image_method_(tr.make_image_method("simclr", width=4,
                                                            projector="64-64"), 99)
with torch.no_grad():
    trained = tr.linear_probe(method, x_fit, y_fit, x_ev, y_ev)
    untrained = tr.linear_probe(random_encoder, x_fit, y_fit, x_ev, y_ev)
    knn = tr.knn_monitor(method, x_fit, y_fit, x_ev, y_ev)
print(f"class probe: trained {trained['accuracy']:.3f}, random encoder "
      f"{untrained['accuracy']:.3f}, chance {trained['chance']:.3f}; "
      f"kNN (k={knn['k']}, T=0.1) {knn['accuracy']:.3f}")
