"""Content/style latent process of von Kuegelgen et al. (2021), Sec. 3.1 (numerical experiment).

Follows ``ysharma1126/ssl_identifiability`` ``main_mlp.py`` after the fix of issue #1 (commit
``ee46a35``): every covariance and the causal edge are drawn once per process.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.stats import wishart

from mitheory._rng import as_generator, spawn
from mitheory._types import UNITS, InfoValue, Seed, Unit
from mitheory._validate import check_int, check_option, check_probability
from mitheory.generative._processes import LatentProcess


def _wishart_identity(dim: int, ss: np.random.SeedSequence) -> np.ndarray:
    """One draw of Wishart(df=dim, scale=I_dim), shape (dim, dim) (``scipy.stats.wishart``)."""
    return np.atleast_2d(wishart.rvs(df=dim, scale=np.eye(dim), random_state=as_generator(ss)))


class ContentStyleProcess(LatentProcess):
    """z = (c, s): content kept, style perturbed across views, mixed by an invertible MLP.

    Parameters
    ----------
    n_content, n_style : int
        Block sizes (paper: 5 and 5). ``content_idx = (0..n_content-1)``, ``style_idx`` the rest.
    p_change : float in [0, 1]
        Probability that a style coordinate is perturbed (``--style-change-prob``; 1.0 default,
        0.75 in the README example).
    statistical_dependence : bool
        c ~ N(0, Sigma_c), s ~ N(0, Sigma_s), delta ~ N(0, Sigma_a) with each Sigma ~
        Wishart(df=dim, I) (``--statistical-dependence``); otherwise all three are N(0, I)
        (``m_param = c_param = 1``).
    causal_dependence : bool
        Content causes style: s <- s + B c + a, B ~ N(0, 1)^{n_style x n_content},
        a ~ N(0, 1)^{n_style} (``--content-dependent-style``).
    seed : int, Generator, SeedSequence or None
        Process seed. Named SeedSequence streams (children of ``seed``, in this order):
        ``mixing, sigma_c, sigma_s, sigma_a, causal``. Every one of Sigma_c, Sigma_s, Sigma_a,
        B, a and the mixing is drawn **once here**, never per batch: redrawing them per batch
        was ``ssl_identifiability`` issue #1, which averaged the dependence away.
    mixing_layers, cond_thresh_ratio, n_iter_cond_thresh
        Passed to :func:`make_mixing_mlp` (von Kuegelgen: 3, 0.001, 25000).

    Notes
    -----
    The generative model (our reading of the code; the paper text was not accessible, see the
    dossier) is

    .. math::
        c \\sim N(0, \\Sigma_c), \\quad s = s_0 + B c + a,\\ s_0 \\sim N(0, \\Sigma_s), \\qquad
        \\tilde c = c, \\quad \\tilde s = s + m \\odot \\delta,\\
        m_j \\sim \\mathrm{Bernoulli}(p), \\ \\delta \\sim N(0, \\Sigma_a),

    with ``B c + a`` only under causal dependence. In ``ssl_identifiability`` the causal shift is
    applied inside ``sample_marginal``, and the conditional perturbs the already-shifted style.
    So view 2's style is view 1's style (which already includes ``B c + a``) plus the masked
    perturbation, and the shift is not applied a second time. Negatives are fresh marginal
    draws, so they carry the same shift. Cov(z) and E[z] are exact (``latent_covariance``,
    ``latent_mean``).
    """

    reference = "von Kuegelgen et al. 2021, Sec. 3.1; ssl_identifiability main_mlp.py @ ee46a35"

    def __init__(
        self,
        n_content: int = 5,
        n_style: int = 5,
        *,
        p_change: float = 1.0,
        statistical_dependence: bool = False,
        causal_dependence: bool = False,
        seed: Seed,
        mixing_layers: int = 3,
        cond_thresh_ratio: float = 0.001,
        n_iter_cond_thresh: int = 25000,
    ) -> None:
        self.n_content = check_int(n_content, "n_content", minimum=1)
        self.n_style = check_int(n_style, "n_style", minimum=1)
        self.p_change = check_probability(p_change, "p_change")
        self.statistical_dependence = bool(statistical_dependence)
        self.causal_dependence = bool(causal_dependence)
        self.name = "cs"
        ss_mixing, ss_c, ss_s, ss_a, ss_causal = spawn(seed, 5)
        self._init_layout(self.n_content + self.n_style, self.n_content, ss_mixing,
                          mixing_layers, cond_thresh_ratio, n_iter_cond_thresh)
        nc, ns = self.n_content, self.n_style
        if self.statistical_dependence:
            self.sigma_c = _wishart_identity(nc, ss_c)
            self.sigma_s = _wishart_identity(ns, ss_s)
            self.sigma_a = _wishart_identity(ns, ss_a)
        else:
            self.sigma_c, self.sigma_s, self.sigma_a = np.eye(nc), np.eye(ns), np.eye(ns)
        if self.causal_dependence:
            rng = as_generator(ss_causal)
            self.b_matrix = rng.standard_normal((ns, nc))
            self.a_vector = rng.standard_normal(ns)
        else:
            self.b_matrix, self.a_vector = np.zeros((ns, nc)), np.zeros(ns)
        self._chol_c = np.linalg.cholesky(self.sigma_c)
        self._chol_s = np.linalg.cholesky(self.sigma_s)
        self._chol_a = np.linalg.cholesky(self.sigma_a)

    def _sample_marginal(self, n, rng):
        c = rng.standard_normal((n, self.n_content)) @ self._chol_c.T  # (n, n_content)
        s = rng.standard_normal((n, self.n_style)) @ self._chol_s.T  # (n, n_style)
        s = s + c @ self.b_matrix.T + self.a_vector  # zero unless causal_dependence
        return np.concatenate([c, s], axis=1)

    def _sample_conditional(self, z, rng):
        n = z.shape[0]
        mask = rng.uniform(size=(n, self.n_style)) < self.p_change  # m ~ Bernoulli(p_change)
        delta = rng.standard_normal((n, self.n_style)) @ self._chol_a.T
        z_tilde = z.copy()
        z_tilde[:, self.n_content:] += mask * delta
        return z_tilde

    def latent_mean(self) -> np.ndarray:
        """Exact E[z] = (0, a), shape (dim_z,)."""
        return np.concatenate([np.zeros(self.n_content), self.a_vector])

    def latent_covariance(self) -> np.ndarray:
        """Exact Cov(z) = [[S_c, S_c B^T], [B S_c, S_s + B S_c B^T]], shape (dim_z, dim_z)."""
        sc, b = self.sigma_c, self.b_matrix
        top = np.concatenate([sc, sc @ b.T], axis=1)
        bottom = np.concatenate([b @ sc, self.sigma_s + b @ sc @ b.T], axis=1)
        return np.concatenate([top, bottom], axis=0)

    def style_invariance_ratios(self) -> np.ndarray:
        r"""How little the augmentation moves each style direction, against its spread.

        The generalised eigenvalues :math:`\lambda` of :math:`\mathrm{Cov}(s \mid c)\, u =
        \lambda\, \mathrm{Cov}(\tilde s - s)\, u`, ascending, shape ``(n_style,)``, with
        :math:`\mathrm{Cov}(s \mid c) = \Sigma_s` and :math:`\mathrm{Cov}(m \odot \delta) =
        p^2 \Sigma_a + (p - p^2)\,\mathrm{diag}(\Sigma_a)` (independent Bernoulli(p) masks).
        A direction with a large ratio varies across samples but hardly across views, so a
        contrastive loss over a finite batch of negatives can take it for content. Independent
        blocks with ``p_change = p`` give ``1 / p`` in every direction; ``p_change = 0`` gives
        ``inf``.

        Examples
        --------
        >>> proc = ContentStyleProcess(p_change=0.5, seed=0, n_iter_cond_thresh=10)
        >>> proc.style_invariance_ratios()
        array([2., 2., 2., 2., 2.])
        """
        return self.style_invariance_directions()[0]

    def style_invariance_directions(self) -> tuple[np.ndarray, np.ndarray]:
        r"""The ratios of :meth:`style_invariance_ratios` with their directions.

        Returns
        -------
        ratios : np.ndarray, shape (n_style,)
            Ascending generalised eigenvalues :math:`\lambda`.
        directions : np.ndarray, shape (n_style, n_style)
            Column ``j`` is the style direction :math:`u_j` of ``ratios[j]``, scaled so that
            :math:`u_j^\top \mathrm{Cov}(m \odot \delta)\, u_j = 1`; ``s0 @ directions``
            gives the style-given-content coordinates along them. With ``p_change = 0`` every
            direction is invariant: ``inf`` ratios and the identity.
        """
        p, a = self.p_change, self.sigma_a
        if p == 0:
            return np.full(self.n_style, np.inf), np.eye(self.n_style)
        moved = p * p * a + (p - p * p) * np.diag(np.diag(a))
        return scipy.linalg.eigh(self.sigma_s, moved)

    def latent_mutual_information(self, *, unit: Unit = "nats") -> InfoValue:
        r"""Exact :math:`I(z; \tilde z) = +\infty`: the content is shared exactly.

        :math:`\tilde c = c` with :math:`c` continuous, so :math:`I(z; \tilde z) \ge
        I(c; \tilde c) = H(c) - H(c \mid c) = \infty` (the conditional law of
        :math:`\tilde z` given :math:`z` is degenerate on the content block), whatever
        ``p_change`` and the dependences are; the same holds for :math:`I(x; \tilde x)`.

        Returns
        -------
        InfoValue
            ``value = inf``, ``kind="exact"``, in any unit.

        Examples
        --------
        >>> ContentStyleProcess(seed=0, n_iter_cond_thresh=10).latent_mutual_information().value
        inf
        """
        check_option(unit, "unit", UNITS)
        return InfoValue(value=float("inf"), unit=unit, kind="exact",
                         method="shared_content_degenerate_conditional",
                         details={"n_content": self.n_content, "n_style": self.n_style})

    def _params(self):
        return {
            "n_content": self.n_content,
            "n_style": self.n_style,
            "p_change": self.p_change,
            "statistical_dependence": self.statistical_dependence,
            "causal_dependence": self.causal_dependence,
            "sigma_c": self.sigma_c.tolist(),
            "sigma_s": self.sigma_s.tolist(),
            "sigma_a": self.sigma_a.tolist(),
            "b_matrix": self.b_matrix.tolist(),
            "a_vector": self.a_vector.tolist(),
        }
