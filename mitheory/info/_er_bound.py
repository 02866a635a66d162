"""The entropy + reconstruction (ER) lower bound I(X;Y) >= H(Y) + E log q(y|x) and its decoders.

Rodriguez-Galvez et al. 2023 (dossier entrec_identifiability.md section 1.3): the gap is
E_x KL(p(.|x) || q(.|x)), so a better decoder q gives a tighter bound (claim C1).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from mitheory._kde import gaussian_log_density
from mitheory._special import log_vmf_normalizer_torch
from mitheory._types import InfoValue, Seed, Unit, convert
from mitheory._validate import (check_finite_number, check_finite_tensor, check_int, check_option,
                                check_unit_norm)
from mitheory.info._common import check_unit
from mitheory.info._knn import entropy_knn
from mitheory.info._variational import (_check_hidden, _check_xy, _mlp, _pair, _TorchEstimator,
                                        _true_mi_details)

DecoderName = Literal["gaussian", "gaussian_isotropic", "vmf"]
DECODERS: tuple[str, ...] = ("gaussian", "gaussian_isotropic", "vmf")
#: Smallest log-sd of :class:`GaussianDecoder` (log of float32's machine epsilon, sd ~1.2e-7 of
#: a standardised y): finer than float32 resolves y, and small enough that ((y - mu) / sd)^2
#: overflows float32 only for |y - mu| > 2e12. Without it, an x far outside the training range
#: (a heavy tail's held-out outlier) can drive the MLP's log-sd to where log q is -inf.
LOG_SD_MIN: float = math.log(float(torch.finfo(torch.float32).eps))

def er_lower_bound(log_q: torch.Tensor, entropy_y: float | torch.Tensor) -> torch.Tensor:
    r"""ER (entropy + reconstruction) bound ``H(Y) + mean log q(y|x)``, differentiable.

    Parameters
    ----------
    log_q : torch.Tensor, shape (batch,)
        ``log q(y_i | x_i)`` in nats for joint pairs, densities w.r.t. the same base measure as
        ``entropy_y`` (Lebesgue on R^d, or surface measure on the sphere).
    entropy_y : float or torch.Tensor
        H(Y) in nats (exact, or an estimate: then the result is an estimate too).

    Returns
    -------
    torch.Tensor
        Scalar: a **lower bound** on I(X;Y) in nats (up to the Monte Carlo error of the mean) when
        ``entropy_y`` is exact; an **estimate** when it is estimated.

    Notes
    -----
    .. math:: I(X;Y) = H(Y) + E\log p(y|x) \ge H(Y) + E \log q(y|x),

    gap :math:`E_x\,\mathrm{KL}(p(\cdot|x)\,\|\,q(\cdot|x))` (Barber & Agakov 2003; the ER bound of
    Rodriguez-Galvez et al. 2023 as derived in papers/entrec_identifiability.md, Sec. 1.3; the
    paper's own equation number is not verified here).
    """
    if not isinstance(log_q, torch.Tensor):
        raise TypeError(f"log_q must be a torch.Tensor, got {type(log_q).__name__}")
    if log_q.ndim != 1 or log_q.numel() < 1:
        raise ValueError(f"log_q must be a non-empty 1-D tensor, got shape {tuple(log_q.shape)}")
    check_finite_tensor(log_q, "log_q")
    if isinstance(entropy_y, torch.Tensor):
        check_finite_tensor(entropy_y, "entropy_y")
    else:
        check_finite_number(entropy_y, "entropy_y")
    return log_q.mean() + entropy_y


# ---- decoders (torch modules) ------------------------------------------------------------------

class GaussianDecoder(nn.Module):
    r"""Gaussian decoder :math:`q(y|x) = N(\mu(x), \mathrm{diag}\,\sigma^2(x))` or isotropic.

    ``covariance="diagonal"``: mean and log-sd both from the MLP (heteroscedastic);
    ``"isotropic"``: MLP mean, one learned sd shared by all coordinates and inputs.
    ``hidden=()`` makes the maps linear (affine) in x. Any such q gives the ER **lower bound**
    :math:`H(Y) + E\log q(y|x)` (:func:`mi_lower_bound_er`). The family's log-sd is bounded
    below by :data:`LOG_SD_MIN` (a smaller output counts as it: no gradient pushes it further),
    so log q is finite at every x; each q of the family is still a normalised density.

    Notes
    -----
    .. math:: \log q(y|x) = -\sum_d \Big[\frac{(y_d-\mu_d(x))^2}{2\sigma_d^2(x)}
              + \log\sigma_d(x) + \tfrac12\log 2\pi\Big].
    """

    def __init__(self, dim_x: int, dim_y: int, *, hidden: Sequence[int] = (64,),
                 covariance: Literal["diagonal", "isotropic"] = "diagonal") -> None:
        super().__init__()
        self.covariance = check_option(covariance, "covariance", ("diagonal", "isotropic"))
        self.dim_x = check_int(dim_x, "dim_x", minimum=1)
        self.dim_y = check_int(dim_y, "dim_y", minimum=1)
        self.net = _mlp(dim_x, _check_hidden(hidden), 2 * dim_y if covariance == "diagonal"
                        else dim_y)
        self.log_sd = nn.Parameter(torch.zeros(())) if covariance == "isotropic" else None

    def log_prob(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``log q(y_i | x_i)`` in nats, shape ``(n,)`` (density w.r.t. Lebesgue measure).

        ``x`` is ``(n, dim_x)`` and ``y`` is ``(n, dim_y)``, row ``i`` a pair; anything else
        (or NaN/inf) raises ``ValueError``.
        """
        _check_xy(x, y, self.dim_x, self.dim_y, paired=True)
        out = self.net(x)
        if self.log_sd is None:
            mu, log_sd = out[:, : self.dim_y], out[:, self.dim_y:]
        else:
            mu, log_sd = out, self.log_sd.expand_as(out)
        return gaussian_log_density(y, mu, log_sd.clamp(min=LOG_SD_MIN))


class VMFDecoder(nn.Module):
    r"""von Mises-Fisher decoder :math:`q(y|x) = C_d(\kappa) e^{\kappa \mu(x)^\top y}` on S^{d-1}.

    :math:`\mu(x)` is the normalised MLP output; ``kappa="global"`` learns one concentration,
    ``"amortized"`` predicts :math:`\log\kappa(x)` from the same MLP. The normaliser is the
    stable ``mitheory._special.log_vmf_normalizer_torch`` (differentiable in kappa), not the
    ``log(iv + 1e-7)`` of apple/ml-entropy-reconstruction that saturates for d >= 64.
    With an exact H(Y) on the sphere it gives the ER **lower bound** (densities w.r.t. area).

    Notes
    -----
    .. math:: \log C_d(\kappa) = (d/2-1)\log\kappa - (d/2)\log 2\pi - \log I_{d/2-1}(\kappa).
    """

    def __init__(self, dim_x: int, dim_y: int, *, hidden: Sequence[int] = (64,),
                 kappa: Literal["global", "amortized"] = "global") -> None:
        super().__init__()
        check_int(dim_y, "dim_y", minimum=2)
        self.dim_x = check_int(dim_x, "dim_x", minimum=1)
        self.kappa_mode = check_option(kappa, "kappa", ("global", "amortized"))
        self.dim_y = dim_y
        self.net = _mlp(dim_x, _check_hidden(hidden), dim_y + (kappa == "amortized"))
        self.log_kappa = nn.Parameter(torch.zeros(())) if kappa == "global" else None

    def log_prob(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``log q(y_i | x_i)`` in nats, shape ``(n,)`` (density w.r.t. the sphere's area).

        ``x`` is ``(n, dim_x)``, ``y`` is ``(n, dim_y)`` with unit-norm rows; anything else
        (or NaN/inf) raises ``ValueError``.
        """
        _check_xy(x, y, self.dim_x, self.dim_y, paired=True)
        check_unit_norm(y, "y", atol=1e-4)
        out = self.net(x)
        mu = nn.functional.normalize(out[:, : self.dim_y], dim=-1)
        log_k = self.log_kappa.expand(len(x)) if self.log_kappa is not None else out[:, -1]
        kappa = torch.exp(log_k)
        return log_vmf_normalizer_torch(self.dim_y, kappa) + kappa * (mu * y).sum(-1)


# ---- fitted ER bound ---------------------------------------------------------------------------

def mi_lower_bound_er(x: ArrayLike, y: ArrayLike, *,
                      log_q: Callable[[np.ndarray, np.ndarray], ArrayLike],
                      entropy_y: float | InfoValue | None = None,
                      support: Literal["euclidean", "sphere"] = "euclidean",
                      true_mi: float | InfoValue | None = None, k: int = 3,
                      unit: Unit = "nats", seed: Seed = None) -> InfoValue:
    r"""ER bound :math:`H(Y) + \frac1n\sum_i \log q(y_i|x_i)` on I(X;Y) for a given decoder q.

    Parameters
    ----------
    x, y : array_like, shape (n_samples, dim_x), (n_samples, dim_y)
        Joint samples (held out from whatever fitted ``log_q``).
    log_q : callable ``(x, y) -> (n_samples,)``
        ``log q(y_i | x_i)`` in nats, a normalised conditional density in y (e.g.
        ``ERBoundEstimator.log_prob`` or a closed-form conditional).
    entropy_y : float, InfoValue or None
        H(Y) in nats. A float, or an InfoValue of kind ``"exact"``, is taken as the exact entropy
        (result kind ``"lower_bound"``). An InfoValue of another kind, or ``None`` (then H(Y) is
        estimated with the Kozachenko-Leonenko kNN estimator, ``k`` neighbours), makes the result
        an ``"estimate"``: an estimated H(Y) can err in either direction, so the sum is no longer
        guaranteed to lie below I(X;Y).
    support : {"euclidean", "sphere"}
        Base measure of the densities. On the sphere H(Y) must be given (the kNN estimator
        measures volume in the ambient space and is not valid on a manifold).
    true_mi : float or InfoValue, optional
        Recorded with the gap in ``details`` only.

    Returns
    -------
    InfoValue
        **Lower bound** on I(X;Y) (exact H(Y)) or **estimate** (estimated H(Y)), with ``details``
        ``entropy_y_nats``, ``entropy_y_source``, ``reconstruction_nats`` (mean log q) and
        ``se_nats`` (Monte Carlo standard error of the mean log q, plus the entropy's own
        ``se_nats`` in quadrature when it reports one).

    Raises
    ------
    TypeError
        If ``log_q`` is not callable.
    ValueError
        If ``x``/``y`` are not finite paired samples, ``log_q`` returns the wrong shape or
        non-finite values, ``entropy_y`` is not finite, or ``k``/``unit``/``support`` is
        invalid.

    Notes
    -----
    .. math:: I(X;Y) = H(Y) - H(Y|X) \ge H(Y) + E_{p(x,y)} \log q(y|x),

    with gap :math:`E_x \mathrm{KL}(p(y|x)\|q(y|x)) \ge 0`, so a better decoder gives a tighter
    bound (claim C1; Rodriguez-Galvez et al. 2023, the ER bound; Barber & Agakov 2003).

    Examples
    --------
    >>> from scipy import stats
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000); y = 0.6 * x + 0.8 * rng.normal(size=2000)
    >>> lq = lambda a, b: stats.norm.logpdf(b[:, 0], 0.6 * a[:, 0], 0.8)
    >>> h = 0.5 * np.log(2 * np.pi * np.e)
    >>> v = mi_lower_bound_er(x, y, log_q=lq, entropy_y=h)  # truth -log(0.8) = 0.223
    >>> bool(abs(v.value + np.log(0.8)) < 4 * v.details["se_nats"])
    True
    """
    xa, ya = _pair(x, y)
    check_option(support, "support", ("euclidean", "sphere"))
    check_unit(unit)
    check_int(k, "k", minimum=1)
    if not callable(log_q):
        raise TypeError(f"log_q must be a callable log_q(x, y), got {type(log_q).__name__}")
    lq = np.asarray(log_q(xa, ya), dtype=np.float64)
    if lq.shape != (len(xa),):
        raise ValueError(f"log_q must return shape ({len(xa)},), got {lq.shape}")
    if not np.all(np.isfinite(lq)):
        raise ValueError(f"log_q returned {int(np.sum(~np.isfinite(lq)))} non-finite value(s)")
    h_se = 0.0
    if entropy_y is None:
        if support == "sphere":
            raise ValueError("entropy_y is required for support='sphere' (kNN entropy is not "
                             "valid on the sphere); pass the exact H(Y)")
        entropy_y = entropy_knn(ya, k=k, seed=seed)
    if isinstance(entropy_y, InfoValue):
        h = entropy_y.to("nats").value
        exact = entropy_y.kind == "exact"
        source = "exact" if exact else f"{entropy_y.kind}:{entropy_y.method}"
        h_se = float(entropy_y.details.get("se_nats", 0.0) or 0.0)
    else:
        h, exact, source = (check_finite_number(entropy_y, "entropy_y"), True,
                            "given (taken as exact)")
    rec = float(lq.mean())
    value = h + rec
    se = math.sqrt(float(lq.var(ddof=1)) / len(lq) + h_se**2)
    details = {"entropy_y_nats": h, "entropy_y_source": source, "reconstruction_nats": rec,
               "se_nats": se, "support": support, **_true_mi_details(value, true_mi)}
    if not exact:
        details["why_estimate"] = "H(Y) is estimated, so the sum is an estimate, not a bound"
    return InfoValue(convert(value, unit), unit, "lower_bound" if exact else "estimate", "er_bound",
                     len(xa), details)


class ERBoundEstimator(_TorchEstimator):
    r"""ER **lower bound** on I(X;Y) with a trained decoder q(y|x) (Gaussian or von Mises-Fisher).

    ``fit`` maximises the held-in log-likelihood :math:`\frac1n\sum\log q(y_i|x_i)`; ``estimate``
    adds H(Y) on held-out data through :func:`mi_lower_bound_er` (an **estimate** instead when
    H(Y) is estimated).

    Parameters
    ----------
    decoder : {"gaussian", "gaussian_isotropic", "vmf"}
        :class:`GaussianDecoder` with diagonal (x-dependent) or isotropic (one learned sd)
        covariance, or :class:`VMFDecoder` for y on the unit sphere.
    hidden : sequence of int
        Hidden widths of the decoder MLP; ``()`` gives a linear decoder (the capacity knob).
    kappa : {"global", "amortized"}
        vMF concentration: one learned value, or predicted from x.
    steps, batch_size, lr : int, int, float
        Adam steps, minibatch size, learning rate.
    early_stopping, validation_fraction, eval_every : bool, float, int
        Keep the checkpoint with the best held-in validation log-likelihood (see
        :class:`VariationalMIEstimator`).
    standardize : bool
        Standardise x; for Gaussian decoders also y, with the log-Jacobian
        :math:`-\sum_d \log s_d` added back so ``log_prob`` is a density in the original y.
    device : str
    seed : int, Generator, SeedSequence or None

    Attributes
    ----------
    decoder_ : torch.nn.Module
    history_ : np.ndarray, shape (steps,)
        Training-batch mean log q(y|x) per step (nats).
    validation_history_ : np.ndarray, shape (n_checks, 2)
    best_step_ : int
    n_train_, dim_x_, dim_y_ : int

    Notes
    -----
    .. math:: \hat I_{ER} = H(Y) + \frac{1}{n_{test}}\sum_{i \in test} \log q_\theta(y_i|x_i),
              \quad \theta = \arg\max \sum_{i \in train} \log q_\theta(y_i|x_i).

    Decoder families: the released ER code uses a vMF with fixed :math:`\kappa` and
    :math:`\mu = z_1` (papers/entrec_identifiability.md Sec. 1.5); here :math:`\mu(x)` and
    :math:`\kappa` are learned by maximum likelihood.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(800, 1)); y = 0.8 * x + 0.6 * rng.normal(size=(800, 1))
    >>> est = ERBoundEstimator(steps=100, seed=0).fit(x[:400], y[:400])
    >>> est.estimate(x[400:], y[400:], entropy_y=0.5 * np.log(2 * np.pi * np.e)).kind
    'lower_bound'
    """

    def __init__(self, *, decoder: DecoderName = "gaussian", hidden: Sequence[int] = (64,),
                 kappa: Literal["global", "amortized"] = "global", steps: int = 500,
                 batch_size: int = 128, lr: float = 1e-2, early_stopping: bool = False,
                 validation_fraction: float = 0.2, eval_every: int = 10,
                 standardize: bool = True, device: str = "cpu", seed: Seed = None) -> None:
        self.decoder = check_option(decoder, "decoder", DECODERS)
        self.kappa = check_option(kappa, "kappa", ("global", "amortized"))
        self.hidden, self.steps, self.batch_size, self.lr = hidden, steps, batch_size, lr
        self.early_stopping, self.validation_fraction = early_stopping, validation_fraction
        self.eval_every, self.standardize, self.device, self.seed = (eval_every, standardize,
                                                                     device, seed)
        self._check_common()

    def fit(self, x: ArrayLike, y: ArrayLike) -> "ERBoundEstimator":
        """Fit q(y|x) by maximum likelihood on ``(x, y)``; returns ``self``."""
        xa, ya = _pair(x, y)
        if self.decoder == "vmf":
            check_unit_norm(ya, "y", atol=1e-6, hint=" (decoder='vmf')")

        def build(dx: int, dy: int) -> nn.Module:
            if self.decoder == "vmf":
                return VMFDecoder(dx, dy, hidden=self.hidden, kappa=self.kappa)
            cov = "diagonal" if self.decoder == "gaussian" else "isotropic"
            return GaussianDecoder(dx, dy, hidden=self.hidden, covariance=cov)

        def make_loss(dec: nn.Module, xt: torch.Tensor, yt: torch.Tensor):
            def step_loss(idx: torch.Tensor) -> tuple[torch.Tensor, float]:
                ll = dec.log_prob(xt[idx], yt[idx]).mean()
                return -ll, float(ll.detach())
            return step_loss

        self.decoder_ = self._fit_module(xa, ya, build=build, make_loss=make_loss,
                                         scale_y=self.standardize and self.decoder != "vmf")
        if self.y_scale_ is not None:  # report log q in the original y coordinates
            self.history_ = self.history_ - float(np.log(self.y_scale_).sum())
            self.validation_history_[:, 1] -= float(np.log(self.y_scale_).sum())
        return self

    def _val_score(self, dec: nn.Module, xv: torch.Tensor, yv: torch.Tensor) -> float:
        return float(dec.log_prob(xv, yv).mean())

    @torch.no_grad()
    def log_prob(self, x: ArrayLike, y: ArrayLike) -> np.ndarray:
        """``log q(y_i | x_i)`` in nats in the original y coordinates, shape ``(n_samples,)``."""
        xa, ya = _pair(x, y, min_samples=1)
        self._check_fitted(xa, ya)
        if self.decoder == "vmf":
            check_unit_norm(ya, "y", atol=1e-6, hint=" (decoder='vmf')")
        lq = self.decoder_.log_prob(*self._tensors(xa, ya)).double().cpu().numpy()
        return lq - float(np.log(self.y_scale_).sum()) if self.y_scale_ is not None else lq

    def estimate(self, x: ArrayLike, y: ArrayLike, *, entropy_y: float | InfoValue | None = None,
                 true_mi: float | InfoValue | None = None, k: int = 3, unit: Unit = "nats",
                 seed: Seed = None) -> InfoValue:
        """ER bound on held-out ``(x, y)`` (see :func:`mi_lower_bound_er` for ``entropy_y``)."""
        v = mi_lower_bound_er(x, y, log_q=self.log_prob, entropy_y=entropy_y,
                              support="sphere" if self.decoder == "vmf" else "euclidean",
                              true_mi=true_mi, k=k, unit=unit, seed=seed)
        details = {**v.details, "decoder": self.decoder, "hidden": list(self.hidden),
                   "steps": self.steps, "best_step": self.best_step_, "n_train": self.n_train_}
        return InfoValue(v.value, v.unit, v.kind, f"er_bound_{self.decoder}", v.n_samples, details)
