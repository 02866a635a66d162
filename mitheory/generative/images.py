"""The image world: procedural images with known factors, and content/style view pairs.

Factors -> pixels by the renderer of ``_images_render``; view pairs follow the content/style design
of :class:`~mitheory.generative.ContentStyleProcess` (von Kuegelgen et al. 2021, Sec. 3.1).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.special import ndtr

from mitheory._rng import as_generator, spawn
from mitheory._types import Seed
from mitheory._validate import (check_device, check_factors, check_int, check_option,
                                check_probability)
from mitheory.generative._images_render import (
    FACTOR_NAMES,
    FACTOR_RANGES,
    SHAPE_NAMES,
    render_factors,
)
from mitheory.generative._processes import ViewBatch

DEFAULT_CONTENT: tuple[str, ...] = ("class", "pos_x", "pos_y", "scale")
IMAGE_SIZES: tuple[int, ...] = (32, 64)
_HUE_O, _HUE_B = FACTOR_NAMES.index("object_hue"), FACTOR_NAMES.index("background_hue")


class ImageWorld:
    """Seeded image world: factors with a known joint law, rendered to RGB images.

    Parameters
    ----------
    image_size : {32, 64}
        Height = width of the rendered images.
    content : sequence of str
        Factor names shared by both views of a pair (default class, position and scale); every
        other factor is style.
    p_change : float in [0, 1]
        Probability that each style factor is resampled in the second view (independently per
        factor and image), as ``p_change`` of ``ContentStyleProcess``.
    statistical_dependence : bool
        Couple object and background hue through a Gaussian copula with correlation ``hue_rho``
        ~ U(0.5, 0.9) drawn once per world; otherwise ``hue_rho = 0`` (independent hues).
    causal_dependence : bool
        Content causes style: the object hue becomes ``frac(m(c) + 0.5 (u - 1/2))`` with
        ``m(c) = hue_offset[class] + hue_slope . (pos_x, pos_y, scale - 0.475)``,
        ``hue_offset ~ U[0, 1)^10`` and ``hue_slope ~ N(0, 1)^3`` drawn once per world, and
        ``u = Phi(g_obj)`` the copula uniform. The causal parents are always class, position
        and scale, whatever ``content`` says.
    seed : int, Generator, SeedSequence or None
        World seed; its child streams (in this order) are ``copula, causal``. The dependence is
        drawn **once here**, never per batch.
    device : str or torch.device
        Where factors are placed and images rendered.

    Notes
    -----
    The factors (columns of the (n, 8) float32 factor tensor, in ``factor_names`` order):

    ==============  ===================  ==========================================  ===========
    name            range                distribution (independent unless noted)     role
    ==============  ===================  ==========================================  ===========
    class           {0, ..., 9}          uniform over ``SHAPE_NAMES``                 content
    pos_x           [-0.4, 0.4]          uniform; fraction of half-width, +x right    content
    pos_y           [-0.4, 0.4]          uniform; fraction of half-width, +y down     content
    scale           [0.35, 0.6]          uniform; object radius / half-width          content
    rotation        [0, 2 pi) rad        uniform                                      style
    object_hue      [0, 1)               uniform = Phi(g_obj); copula, causal shift   style
    background_hue  [0, 1)               uniform = Phi(g_bg); copula with object hue  style
    texture         [0, 1]               uniform; stripe frequency 0.5 + 1.5 t        style
                                         cycles per object radius
    ==============  ===================  ==========================================  ===========

    ``(g_obj, g_bg)`` is bivariate normal with unit variances and correlation ``hue_rho``. The
    second view copies the content and resamples each style factor with probability
    ``p_change`` from its law *given everything it keeps*: a hue that changes alone is drawn
    from ``g | g_other ~ N(rho g_other, 1 - rho^2)``, so both views have the same marginal law.
    Objects are drawn at saturation 0.85, value 0.95 modulated by stripes; the background at
    saturation 0.45, value 0.5, so an object never vanishes into a background of its own hue.
    """

    factor_names: tuple[str, ...] = FACTOR_NAMES
    shape_names: tuple[str, ...] = SHAPE_NAMES
    factor_ranges: dict[str, tuple[float, float]] = FACTOR_RANGES

    def __init__(
        self,
        *,
        image_size: int = 32,
        content: Sequence[str] = DEFAULT_CONTENT,
        p_change: float = 1.0,
        statistical_dependence: bool = False,
        causal_dependence: bool = False,
        seed: Seed,
        device: str | torch.device = "cpu",
    ) -> None:
        self.image_size = check_option(image_size, "image_size", IMAGE_SIZES)
        if isinstance(content, str):
            raise TypeError(f"content must be a sequence of factor names, got {content!r}")
        for name in content:
            check_option(name, "content", FACTOR_NAMES)
        self.content = tuple(n for n in FACTOR_NAMES if n in set(content))
        self.content_idx = tuple(FACTOR_NAMES.index(n) for n in self.content)
        self.style_idx = tuple(j for j in range(len(FACTOR_NAMES)) if j not in self.content_idx)
        self.p_change = check_probability(p_change, "p_change")
        self.statistical_dependence = bool(statistical_dependence)
        self.causal_dependence = bool(causal_dependence)
        self.n_classes = len(SHAPE_NAMES)
        self.device = check_device(device)
        ss_copula, ss_causal = spawn(seed, 2)
        self.hue_rho = (float(as_generator(ss_copula).uniform(0.5, 0.9))
                        if statistical_dependence else 0.0)
        if causal_dependence:
            rng = as_generator(ss_causal)
            self.hue_offset = rng.uniform(size=self.n_classes)
            self.hue_slope = rng.standard_normal(3)
        else:
            self.hue_offset, self.hue_slope = np.zeros(self.n_classes), np.zeros(3)

    # ---- base variables: uniforms / class ids, and the copula normals for the two hues ----
    def _draw_base(self, n: int, rng: np.random.Generator) -> np.ndarray:
        base = rng.uniform(size=(n, len(FACTOR_NAMES)))  # (n, 8)
        base[:, 0] = rng.integers(0, self.n_classes, size=n)
        g = rng.standard_normal((n, 2))
        base[:, _HUE_O] = g[:, 0]
        base[:, _HUE_B] = self.hue_rho * g[:, 0] + np.sqrt(1.0 - self.hue_rho**2) * g[:, 1]
        return base

    def _compose(self, base: np.ndarray) -> torch.Tensor:
        f = base.copy()
        for j, name in enumerate(FACTOR_NAMES[1:], start=1):
            if name in (FACTOR_NAMES[_HUE_O], FACTOR_NAMES[_HUE_B]):
                f[:, j] = ndtr(base[:, j])  # Gaussian copula -> uniform hue
            else:
                lo, hi = FACTOR_RANGES[name]
                f[:, j] = lo + (hi - lo) * base[:, j]
        if self.causal_dependence:
            parents = np.stack([f[:, 1], f[:, 2], f[:, 3] - 0.475], axis=1)  # (n, 3)
            shift = self.hue_offset[f[:, 0].astype(int)] + parents @ self.hue_slope
            f[:, _HUE_O] = np.remainder(shift + 0.5 * (f[:, _HUE_O] - 0.5), 1.0)
        return torch.as_tensor(f, dtype=torch.float32, device=self.device)

    def sample_factors(self, n: int, *, seed: Seed) -> torch.Tensor:
        """Draw ``n`` factor vectors from the world's joint law.

        Parameters
        ----------
        n : int
            Number of images (>= 1).
        seed : int, Generator, SeedSequence or None
            Sampling seed (the same seed gives the same factors).

        Returns
        -------
        torch.Tensor, shape (n, 8), float32
            Factors in ``factor_names`` order (class ids as floats), on ``device``.
        """
        n = check_int(n, "n", minimum=1)
        return self._compose(self._draw_base(n, as_generator(seed)))

    def render(self, factors: torch.Tensor, *, return_mask: bool = False):
        """Render factors to images (deterministic: no randomness).

        Parameters
        ----------
        factors : torch.Tensor or array_like, shape (n, 8)
            Factors in ``factor_names`` order, inside the ranges of the table above.
        return_mask : bool
            Also return the object coverage.

        Returns
        -------
        images : torch.Tensor, shape (n, 3, image_size, image_size), float32 in [0, 1]
        mask : torch.Tensor, shape (n, 1, image_size, image_size), only with ``return_mask``
            Antialiased object coverage in [0, 1].

        Raises
        ------
        ValueError
            If ``factors`` has the wrong shape, non-finite values, or a class outside 0..9.
        """
        f = check_factors(factors, "factors", n_factors=len(FACTOR_NAMES), n_classes=self.n_classes)
        f = f.to(self.device, torch.float32)
        # chunks of 2048 keep the (n, H, W) intermediates cache-sized (1.3x faster at n = 20000)
        parts = [render_factors(c, self.image_size) for c in f.split(2048)]
        images = torch.cat([p[0] for p in parts])
        alpha = torch.cat([p[1] for p in parts])
        return (images, alpha) if return_mask else images

    def sample_pairs(self, n: int, *, seed: Seed) -> ViewBatch:
        """Draw ``n`` positive pairs: shared content, style resampled with ``p_change``.

        Parameters
        ----------
        n : int
            Number of pairs (>= 1).
        seed : int, Generator, SeedSequence or None
            Sampling seed.

        Returns
        -------
        ViewBatch
            ``x``, ``x_tilde``: images (n, 3, H, W); ``z``, ``z_tilde``: factors (n, 8).
        """
        n = check_int(n, "n", minimum=1)
        rng = as_generator(seed)
        base = self._draw_base(n, rng)
        fresh = self._draw_base(n, rng)
        mask = np.zeros(base.shape, dtype=bool)
        mask[:, list(self.style_idx)] = rng.uniform(size=(n, len(self.style_idx))) < self.p_change
        base2 = np.where(mask, fresh, base)
        # a hue that changes alone is redrawn given the other one, keeping the copula law
        e = rng.standard_normal((n, 2))
        rho, sq = self.hue_rho, np.sqrt(1.0 - self.hue_rho**2)
        m_o, m_b = mask[:, _HUE_O], mask[:, _HUE_B]
        g_o = np.where(m_o & ~m_b, rho * base[:, _HUE_B] + sq * e[:, 0], base2[:, _HUE_O])
        g_b = np.where(m_b & ~m_o, rho * base[:, _HUE_O] + sq * e[:, 1], base2[:, _HUE_B])
        base2[:, _HUE_O], base2[:, _HUE_B] = g_o, g_b
        z, z_tilde = self._compose(base), self._compose(base2)
        return ViewBatch(self.render(z), self.render(z_tilde), z, z_tilde)

    def labels(self, factors: torch.Tensor) -> torch.Tensor:
        """The downstream label (shape class) of each factor row, int64 (n,)."""
        return factors[:, 0].long()
