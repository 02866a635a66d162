"""Variational lower bounds on mutual information with a trainable critic.

Score-function bounds InfoNCE, NWJ, DV and MINE (Poole et al. 2019; Belghazi et al. 2018), and the
shared fitting machinery of the sklearn-style estimators (the ER bound lives in ``_er_bound``).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from mitheory._rng import int_seed, spawn, torch_generator
from mitheory._types import InfoValue, Seed, Unit, convert
from mitheory._validate import (check_device, check_embeddings, check_finite_tensor, check_int,
                                check_option, check_positive, check_same_length, check_samples)

ScoreBound = Literal["infonce", "nwj", "dv", "mine"]
CriticName = Literal["separable", "concat"]
SCORE_BOUNDS: tuple[str, ...] = ("infonce", "nwj", "dv", "mine")
CRITICS: tuple[str, ...] = ("separable", "concat")
_PAIRS_PER_CHUNK = 2**17  # score-matrix entries evaluated at once at test time (memory bound)


# ---- score-function bounds (differentiable, torch) -------------------------------------------

def _check_scores(scores: Any) -> int:
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"scores must be a torch.Tensor, got {type(scores).__name__}")
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError("scores must be a square (batch, batch) matrix, "
                         f"got {tuple(scores.shape)}")
    if scores.shape[0] < 2:
        raise ValueError(f"scores needs a batch of at least 2, got shape {tuple(scores.shape)}")
    check_finite_tensor(scores, "scores")
    return int(scores.shape[0])


def _log_mean_exp_offdiag(scores: torch.Tensor) -> torch.Tensor:
    n = scores.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=scores.device)
    return (torch.logsumexp(scores.masked_fill(eye, -math.inf).reshape(-1), 0)
            - math.log(n * (n - 1)))


def infonce_lower_bound(scores: torch.Tensor) -> torch.Tensor:
    r"""InfoNCE lower bound on I(X;Y) from a critic score matrix; capped at ``log(batch)``.

    Parameters
    ----------
    scores : torch.Tensor, shape (batch, batch)
        ``scores[i, j] = f(x_i, y_j)``; the diagonal holds the joint (positive) pairs.

    Returns
    -------
    torch.Tensor
        Scalar, in nats: a (stochastic) **lower bound** on I(X;Y) that can never exceed
        ``log(batch)``, however good the critic (van den Oord et al. 2018; Poole et al. 2019).

    Notes
    -----
    .. math:: I_{NCE} = \frac1n \sum_i \Big[f(x_i, y_i) - \log \frac1n \sum_j e^{f(x_i, y_j)}\Big]
              \le \log n.

    Same value as ``infonce_lower_bound`` of ermongroup/smile-mi-estimator (``estimators.py``).

    Examples
    --------
    >>> float(infonce_lower_bound(torch.zeros(4, 4)))
    0.0
    """
    n = _check_scores(scores)
    return (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean() + math.log(n)


def nwj_lower_bound(scores: torch.Tensor) -> torch.Tensor:
    r"""NWJ (f-GAN KL / MINE-f) lower bound on I(X;Y) from a critic score matrix.

    Returns a scalar tensor in nats, an unbiased estimate of a **lower bound** on I(X;Y) (Nguyen,
    Wainwright & Jordan 2010; Poole et al. 2019, ``I_NWJ``). The product of marginals is the
    ``n(n-1)`` off-diagonal pairs (a derangement, never the diagonal).

    Notes
    -----
    .. math:: I_{NWJ} = \frac1n \sum_i f(x_i, y_i)
              - \frac{1}{e\,n(n-1)} \sum_{i \ne j} e^{f(x_i, y_j)}.

    Equals ``nwj_lower_bound`` of ermongroup/smile-mi-estimator (``tuba_lower_bound(scores - 1)``).
    Tight at :math:`f = 1 + \log p(x,y)/(p(x)p(y))`.

    Examples
    --------
    >>> round(float(nwj_lower_bound(torch.ones(3, 3))), 12)
    0.0
    """
    _check_scores(scores)
    return scores.diagonal().mean() - torch.exp(_log_mean_exp_offdiag(scores) - 1.0)


def dv_lower_bound(scores: torch.Tensor) -> torch.Tensor:
    r"""Donsker-Varadhan lower bound on I(X;Y) from a critic score matrix (the value MINE reports).

    Returns a scalar tensor in nats. The DV bound itself is a **lower bound**, but its plug-in batch
    estimate is biased *upwards* (Jensen on the log of a sample mean), so a batch value can
    exceed I(X;Y); evaluate it on many pairs.

    Notes
    -----
    .. math:: I_{DV} = \frac1n \sum_i f(x_i, y_i)
              - \log \frac{1}{n(n-1)} \sum_{i\ne j} e^{f(x_i,y_j)}

    (Donsker & Varadhan 1983; the MINE objective of Belghazi et al. 2018). Equals
    ``dv_upper_lower_bound`` of ermongroup/smile-mi-estimator.

    Examples
    --------
    >>> float(dv_lower_bound(torch.zeros(3, 3)))
    0.0
    """
    _check_scores(scores)
    return scores.diagonal().mean() - _log_mean_exp_offdiag(scores)


def mine_surrogate_loss(scores: torch.Tensor, log_ema: torch.Tensor | None, *,
                        ema_rate: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    r"""MINE training loss with the moving-average gradient correction; returns (loss, new EMA).

    Minimising ``loss`` follows the bias-corrected gradient of the DV bound of Belghazi et al.
    2018 (Sec. 3.2, Eq. 12): the batch denominator :math:`\bar{E}_B[e^T]` of
    :math:`\nabla \log E[e^T] = E[\nabla T e^T] / E[e^T]` is replaced by an exponential moving
    average (EMA) of it. The loss value is not a bound; use :func:`dv_lower_bound` for the DV
    **lower bound** itself.

    Parameters
    ----------
    scores : torch.Tensor, shape (batch, batch)
    log_ema : torch.Tensor or None
        Log of the running average of :math:`\frac{1}{n(n-1)}\sum_{i\ne j} e^{f(x_i,y_j)}`
        (``None`` on the first step: initialised with the batch value).
    ema_rate : float
        Weight of the new batch in the EMA (the MINE paper's moving-average rate).

    Notes
    -----
    .. math:: \mathcal{L} = -\Big(\bar f_{joint} - \frac{\bar{E}_B[e^f]}{\mathrm{sg}(m_t)}\Big),
              \quad m_t = (1-\alpha) m_{t-1} + \alpha\,\bar{E}_B[e^f],

    so :math:`\nabla \mathcal{L} = -(\nabla \bar f_{joint} - \nabla \bar{E}_B[e^f]/m_t)`. The EMA is
    kept in log space (``logaddexp``) so large scores do not overflow. Difference from
    ermongroup/smile-mi-estimator ``mine_lower_bound``: that function returns the batch value,
    not the updated average, as its buffer, so a caller feeding it back keeps no long memory.
    """
    _check_scores(scores)
    alpha = check_positive(ema_rate, "ema_rate")
    if alpha > 1:
        raise ValueError(f"ema_rate must be in (0, 1], got {ema_rate!r}")
    lme = _log_mean_exp_offdiag(scores)
    if log_ema is not None:
        check_finite_tensor(torch.as_tensor(log_ema), "log_ema")
    if log_ema is None or alpha == 1.0:
        new = lme.detach()
    else:
        new = torch.logaddexp(math.log1p(-alpha) + log_ema.detach(), math.log(alpha) + lme.detach())
    loss = -(scores.diagonal().mean() - torch.exp(lme - new))
    return loss, new


_SCORE_FNS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "infonce": infonce_lower_bound, "nwj": nwj_lower_bound, "dv": dv_lower_bound,
    "mine": dv_lower_bound,
}


# ---- critics and decoders (torch modules) -----------------------------------------------------

def _mlp(d_in: int, hidden: Sequence[int], d_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(d_in, h), nn.ReLU()]
        d_in = h
    return nn.Sequential(*layers, nn.Linear(d_in, d_out))


def _check_xy(x: torch.Tensor, y: torch.Tensor, dim_x: int, dim_y: int, *,
              paired: bool) -> None:
    """Check the (x, y) batches of a critic or decoder: finite 2-D tensors of the module's
    widths; ``paired`` (decoders) also needs the same number of rows."""
    check_embeddings(x, "x", min_samples=1, dim=dim_x)
    check_embeddings(y, "y", min_samples=1, dim=dim_y)
    if paired and x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of samples (rows), "
                         f"got {x.shape[0]} and {y.shape[0]}")


def _check_hidden(hidden: Sequence[int]) -> tuple[int, ...]:
    hidden = tuple(hidden)
    for h in hidden:
        check_int(h, "hidden", minimum=1)
    return hidden


class SeparableCritic(nn.Module):
    r"""Separable critic :math:`f(x, y) = g(x)^\top h(y)` with MLPs g, h (``hidden=()``: linear).

    ``forward(x, y)`` returns the ``(len(x), len(y))`` score matrix in one matrix product; the
    scores are not information values, the score-function bounds turn them into a
    **lower bound** on I(X;Y).

    Notes
    -----
    .. math:: S_{ij} = g(x_i)^\top h(y_j), \quad S \in \mathbb{R}^{n_x \times n_y}.
    """

    def __init__(self, dim_x: int, dim_y: int, *, hidden: Sequence[int] = (64,),
                 embed_dim: int = 16) -> None:
        super().__init__()
        hidden = _check_hidden(hidden)
        self.dim_x = check_int(dim_x, "dim_x", minimum=1)
        self.dim_y = check_int(dim_y, "dim_y", minimum=1)
        self.g = _mlp(dim_x, hidden, check_int(embed_dim, "embed_dim", minimum=1))
        self.h = _mlp(dim_y, hidden, embed_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Scores of every ``(x_i, y_j)`` pair; raises ``ValueError`` for non-finite or
        wrongly shaped batches."""
        _check_xy(x, y, self.dim_x, self.dim_y, paired=False)
        return self.g(x) @ self.h(y).T  # (n_x, n_y)


class ConcatCritic(nn.Module):
    r"""Joint critic f(x, y) = MLP([x, y]), evaluated on every (x_i, y_j) pair.

    Scores feed the score-function **lower bound** functions (Poole et al. 2019 "concat" critic).

    Notes
    -----
    .. math:: S_{ij} = f([x_i, y_j]); \text{ cost } O(n_x n_y) \text{ MLP evaluations.}
    """

    def __init__(self, dim_x: int, dim_y: int, *, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.dim_x = check_int(dim_x, "dim_x", minimum=1)
        self.dim_y = check_int(dim_y, "dim_y", minimum=1)
        self.f = _mlp(dim_x + dim_y, _check_hidden(hidden), 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Scores of every ``(x_i, y_j)`` pair; raises ``ValueError`` for non-finite or
        wrongly shaped batches."""
        _check_xy(x, y, self.dim_x, self.dim_y, paired=False)
        nx, ny = x.shape[0], y.shape[0]
        pairs = torch.cat([x[:, None, :].expand(nx, ny, -1), y[None, :, :].expand(nx, ny, -1)], -1)
        return self.f(pairs).squeeze(-1)  # (n_x, n_y)


# ---- fitted estimators -------------------------------------------------------------------------

def _pair(x: ArrayLike, y: ArrayLike, min_samples: int = 2) -> tuple[np.ndarray, np.ndarray]:
    xa = check_samples(x, "x", min_samples=min_samples)
    ya = check_samples(y, "y", min_samples=min_samples)
    check_same_length(xa, ya)
    return xa, ya


def _scale(a: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    sd = a.std(axis=0)
    if np.any(sd == 0):
        raise ValueError(f"{name} has zero-variance column(s) {np.flatnonzero(sd == 0).tolist()}")
    return a.mean(axis=0), sd


def _init_module(build: Callable[[], nn.Module], ss: np.random.SeedSequence) -> nn.Module:
    # nn.Linear draws its init from torch's global RNG: fork it so library code leaves it intact.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int_seed(ss))
        return build()


def _train(module: nn.Module, step_loss: Callable[[torch.Tensor], tuple[torch.Tensor, float]],
           n: int, *, steps: int, batch_size: int, lr: float, gen: torch.Generator,
           device: torch.device, validate: Callable[[], float] | None = None,
           eval_every: int = 10) -> tuple[np.ndarray, np.ndarray, int]:
    """Adam on minibatches drawn without replacement.

    Returns the per-step monitored value, the ``(step, validation score)`` pairs and the step
    whose parameters are kept: with ``validate``, the best-scoring checkpoint (early stopping).
    """
    opt = torch.optim.Adam(module.parameters(), lr=lr)
    history, checks, best = np.empty(steps), [], (-math.inf, steps, None)
    for t in range(1, steps + 1):
        idx = torch.randperm(n, generator=gen)[:batch_size].to(device)
        loss, value = step_loss(idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history[t - 1] = value
        if validate is not None and (t % eval_every == 0 or t == steps):
            with torch.no_grad():
                score = validate()
            checks.append((t, score))
            if score > best[0]:  # NaN / -inf never wins
                best = (score, t, copy.deepcopy(module.state_dict()))
    if best[2] is not None:
        module.load_state_dict(best[2])
    return history, np.array(checks, dtype=float).reshape(-1, 2), best[1]


class _TorchEstimator:
    """Shared hyperparameter checks, standardisation, early stopping and the not-fitted guard."""

    def _check_common(self) -> None:
        check_int(self.steps, "steps", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=2)
        check_positive(self.lr, "lr")
        check_int(self.eval_every, "eval_every", minimum=1)
        check_device(self.device)
        frac = check_positive(self.validation_fraction, "validation_fraction")
        if frac >= 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {frac!r}")
        self.hidden = _check_hidden(self.hidden)

    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        dev = torch.device(self.device)
        out = []
        for a, mean, sd in ((x, self.x_mean_, self.x_scale_), (y, self.y_mean_, self.y_scale_)):
            a = a if mean is None else (a - mean) / sd
            out.append(torch.as_tensor(a, dtype=torch.float32, device=dev))
        return out[0], out[1]

    def _fit_module(self, xa: np.ndarray, ya: np.ndarray, *, scale_y: bool,
                    build: Callable[[int, int], nn.Module],
                    make_loss: Callable[..., Callable[[torch.Tensor], tuple[torch.Tensor, float]]]
                    ) -> nn.Module:
        """Standardise, split off validation data, build from its own seed stream, train."""
        ss_init, ss_split, ss_fit = spawn(self.seed, 3)
        xa, ya = _pair(xa, ya, min_samples=self.batch_size + 2 * self.early_stopping)
        self.x_mean_, self.x_scale_ = _scale(xa, "x") if self.standardize else (None, None)
        self.y_mean_, self.y_scale_ = _scale(ya, "y") if scale_y else (None, None)
        xt, yt = self._tensors(xa, ya)
        validate = None
        if self.early_stopping:
            perm = torch.as_tensor(np.random.default_rng(ss_split).permutation(len(xa)))
            n_val = max(2, round(self.validation_fraction * len(xa)))
            val, fit = perm[:n_val].to(xt.device), perm[n_val:].to(xt.device)
            (xv, yv), (xt, yt) = (xt[val], yt[val]), (xt[fit], yt[fit])
            if len(xt) < self.batch_size:
                raise ValueError(f"{len(xt)} samples left after the validation split, fewer than "
                                 f"batch_size={self.batch_size}")
            validate = lambda: self._val_score(module, xv, yv)  # noqa: E731
        self.n_train_, self.dim_x_, self.dim_y_ = len(xt), xa.shape[1], ya.shape[1]
        dev = torch.device(self.device)
        module = _init_module(lambda: build(self.dim_x_, self.dim_y_), ss_init).to(dev)
        self.history_, self.validation_history_, self.best_step_ = _train(
            module, make_loss(module, xt, yt), len(xt), steps=self.steps,
            batch_size=self.batch_size, lr=self.lr, gen=torch_generator(ss_fit), device=dev,
            validate=validate, eval_every=self.eval_every)
        return module.eval()

    def _check_fitted(self, x: np.ndarray, y: np.ndarray) -> None:
        if not hasattr(self, "history_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(x, y) first")
        if (x.shape[1], y.shape[1]) != (self.dim_x_, self.dim_y_):
            raise ValueError(f"x, y must have {self.dim_x_} and {self.dim_y_} columns as in fit, "
                             f"got shapes {x.shape} and {y.shape}")


def _true_mi_details(value: float, true_mi: float | InfoValue | None) -> dict[str, Any]:
    if true_mi is None:
        return {}
    t = true_mi.to("nats").value if isinstance(true_mi, InfoValue) else float(true_mi)
    return {"true_mi_nats": t, "gap_nats": t - value}


class VariationalMIEstimator(_TorchEstimator):
    r"""**Lower bound** on I(X;Y) from a trained critic (InfoNCE, NWJ, DV or MINE).

    ``fit`` maximises the chosen bound on minibatches of the training data; ``estimate``
    evaluates the bound with the frozen critic on (preferably held-out) data.

    Parameters
    ----------
    bound : {"infonce", "nwj", "dv", "mine"}
        Training objective and reported bound; ``"mine"`` trains with the EMA-corrected gradient
        (:func:`mine_surrogate_loss`) and reports the DV bound.
    critic : {"separable", "concat"}
        :class:`SeparableCritic` or :class:`ConcatCritic`.
    hidden : sequence of int
        Hidden layer widths of the critic MLP(s); ``()`` is a linear (bilinear) critic.
    embed_dim : int
        Embedding size of the separable critic.
    steps, batch_size, lr : int, int, float
        Adam steps, minibatch size (also the InfoNCE evaluation batch, so the InfoNCE cap is
        ``log(batch_size)``) and learning rate.
    ema_rate : float
        MINE moving-average rate (``bound="mine"`` only).
    early_stopping : bool
        Hold out ``validation_fraction`` of the fitting data, score the bound on it every
        ``eval_every`` steps and keep the best checkpoint (sklearn ``MLPRegressor`` naming).
    validation_fraction : float
    eval_every : int
    standardize : bool
        Centre and scale each column with the training mean/sd (MI is invariant to it).
    device : str
        Torch device for training and evaluation.
    seed : int, Generator, SeedSequence or None
        Split into independent initialisation, validation-split and minibatch streams.

    Attributes
    ----------
    critic_ : torch.nn.Module
    history_ : np.ndarray, shape (steps,)
        Training-batch bound value (nats) per step; a smoke signal, not an estimate.
    validation_history_ : np.ndarray, shape (n_checks, 2)
        ``(step, validation bound)`` rows (empty without early stopping).
    best_step_ : int
        Step whose parameters were kept (``steps`` without early stopping).
    n_train_, dim_x_, dim_y_ : int

    Notes
    -----
    Held-out evaluation: InfoNCE is averaged over disjoint blocks of ``batch_size`` pairs; NWJ and
    DV use every one of the ``n(n-1)`` off-diagonal pairs as product-of-marginals samples (NWJ
    is then unbiased; DV keeps a small upward Jensen bias). ``details["se_nats"]`` is the spread
    of the per-block values over :math:`\sqrt{n_{blocks}}`. Large critics overfit the training
    set (bmi PR #63): always evaluate on data not used in ``fit``.

    References
    ----------
    Poole, Ozair, van den Oord, Alemi, Tucker (2019), On variational bounds of mutual
    information, ICML. Belghazi et al. (2018), MINE: mutual information neural estimation, ICML.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(600, 1)); y = 0.8 * x + 0.6 * rng.normal(size=(600, 1))
    >>> est = VariationalMIEstimator(bound="infonce", steps=50, seed=0).fit(x[:300], y[:300])
    >>> est.estimate(x[300:], y[300:]).kind
    'lower_bound'
    """

    def __init__(self, *, bound: ScoreBound = "infonce", critic: CriticName = "separable",
                 hidden: Sequence[int] = (64,), embed_dim: int = 16, steps: int = 500,
                 batch_size: int = 128, lr: float = 2e-3, ema_rate: float = 0.01,
                 early_stopping: bool = False, validation_fraction: float = 0.2,
                 eval_every: int = 10, standardize: bool = True, device: str = "cpu",
                 seed: Seed = None) -> None:
        self.bound = check_option(bound, "bound", SCORE_BOUNDS)
        self.critic = check_option(critic, "critic", CRITICS)
        self.hidden, self.embed_dim = hidden, embed_dim
        self.steps, self.batch_size = steps, batch_size
        self.lr, self.ema_rate, self.standardize = lr, ema_rate, standardize
        self.early_stopping, self.validation_fraction = early_stopping, validation_fraction
        self.eval_every, self.device, self.seed = eval_every, device, seed
        self._check_common()
        check_int(embed_dim, "embed_dim", minimum=1)
        if check_positive(ema_rate, "ema_rate") > 1:
            raise ValueError(f"ema_rate must be in (0, 1], got {ema_rate!r}")

    def fit(self, x: ArrayLike, y: ArrayLike) -> "VariationalMIEstimator":
        """Train the critic on ``(x, y)`` (rows are joint samples); returns ``self``."""
        xa, ya = _pair(x, y)
        if self.critic == "separable":
            def build(dx: int, dy: int) -> nn.Module:
                return SeparableCritic(dx, dy, hidden=self.hidden, embed_dim=self.embed_dim)
        else:
            def build(dx: int, dy: int) -> nn.Module:
                return ConcatCritic(dx, dy, hidden=self.hidden)
        self.critic_ = self._fit_module(xa, ya, scale_y=self.standardize, build=build,
                                        make_loss=self._make_loss)
        return self

    def _make_loss(self, critic: nn.Module, xt: torch.Tensor, yt: torch.Tensor):
        score_fn, state = _SCORE_FNS[self.bound], {"log_ema": None}

        def step_loss(idx: torch.Tensor) -> tuple[torch.Tensor, float]:
            scores = critic(xt[idx], yt[idx])  # (batch, batch)
            if self.bound == "mine":
                loss, state["log_ema"] = mine_surrogate_loss(scores, state["log_ema"],
                                                             ema_rate=self.ema_rate)
                return loss, float(dv_lower_bound(scores.detach()))
            value = score_fn(scores)
            return -value, float(value.detach())

        return step_loss

    @torch.no_grad()
    def estimate(self, x: ArrayLike, y: ArrayLike, *, true_mi: float | InfoValue | None = None,
                 unit: Unit = "nats") -> InfoValue:
        """The bound on held-out joint samples ``(x, y)``: ``InfoValue(kind="lower_bound")``.

        ``true_mi`` (nats, or an InfoValue) is only recorded, with the gap, in ``details``.
        """
        xa, ya = _pair(x, y)
        self._check_fitted(xa, ya)
        value, se, how = self._bound_on(self.critic_, *self._tensors(xa, ya))
        details = {"bound": self.bound, "critic": self.critic, "hidden": list(self.hidden),
                   "steps": self.steps, "best_step": self.best_step_,
                   "batch_size": self.batch_size, "lr": self.lr, "n_train": self.n_train_,
                   "evaluation": how, "se_nats": se,
                   "cap_nats": math.log(min(self.batch_size, len(xa)))
                   if self.bound == "infonce" else None, **_true_mi_details(value, true_mi)}
        return InfoValue(convert(value, unit), unit, "lower_bound",
                         f"variational_{self.bound}_{self.critic}", len(xa), details)

    def _val_score(self, critic: nn.Module, xv: torch.Tensor, yv: torch.Tensor) -> float:
        return self._bound_on(critic, xv, yv)[0]

    def _bound_on(self, critic: nn.Module, xt: torch.Tensor,
                  yt: torch.Tensor) -> tuple[float, float, str]:
        """(value, block standard error, how it was evaluated) of the bound on ``(xt, yt)``."""
        n, size = len(xt), min(self.batch_size, len(xt))
        fn = _SCORE_FNS[self.bound]
        blocks = np.array([float(fn(critic(xt[s:s + size], yt[s:s + size]).double()))
                           for s in range(0, n - size + 1, size)])
        se = float(blocks.std(ddof=1) / math.sqrt(len(blocks))) if len(blocks) > 1 else math.nan
        if self.bound == "infonce":
            return float(blocks.mean()), se, f"mean over {len(blocks)} blocks of {size}"
        return _all_pairs(critic, xt, yt, self.bound), se, f"all {n * (n - 1)} off-diagonal pairs"


def _all_pairs(critic: nn.Module, xt: torch.Tensor, yt: torch.Tensor, bound: str) -> float:
    """NWJ or DV with every off-diagonal pair as a product-of-marginals sample, in chunks."""
    n = len(xt)
    rows = max(1, _PAIRS_PER_CHUNK // n)
    joint, lse = 0.0, torch.tensor(-math.inf, dtype=torch.float64)
    for s in range(0, n, rows):
        sc = critic(xt[s:s + rows], yt).double().cpu()  # (rows, n)
        r = torch.arange(sc.shape[0])
        joint += float(sc[r, s + r].sum())
        sc[r, s + r] = -math.inf
        lse = torch.logaddexp(lse, torch.logsumexp(sc.reshape(-1), 0))
    log_marg = float(lse) - math.log(n * (n - 1))  # log mean_{i != j} e^{f(x_i, y_j)}
    if bound == "nwj":
        return joint / n - math.exp(log_marg - 1.0)
    return joint / n - log_marg

