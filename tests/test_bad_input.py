"""Bad input across the whole public API.

Every name in the subpackages' ``__all__`` is either in ``TABLE`` (a valid call, keyed by the
public name so that moving a function between subpackages does not break the test) or in
``SKIP`` (with a reason). From each valid call the walker derives bad variants: NaN and inf in
the array inputs, a wrong ndim, an empty array, mismatched sample counts of paired inputs, too
few samples, non-positive scales/counts, an unknown option string (every string-valued
parameter, plus ``device``), a non-positive-definite covariance, and hand-written extras. Each
bad call must raise ``ValueError`` or ``TypeError`` whose message names the argument.

The number of generated cases is computed at collection time (``N_CASES``) and printed by
``test_case_count``; its floor only guards against the walker silently losing the table. At
the last count: 2517 cases over 298 table entries (62 names skipped with a reason), none
expected to fail.
"""
from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

SUBPACKAGES = ["mitheory.generative", "mitheory.info", "mitheory.objectives", "mitheory.stats",
               "mitheory.cpa", "mitheory.models", "mitheory.train", "mitheory.info.tasks"]


def _public() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mod_name in SUBPACKAGES:
        mod = importlib.import_module(mod_name)
        names = getattr(mod, "__all__", None)
        if names is None:  # a module without __all__ is not a public namespace
            continue
        for n in names:
            out.setdefault(n, getattr(mod, n))
    return out


PUBLIC = _public()


def api(name: str) -> Any:
    """The public object called ``name``, wherever it is exported now."""
    return PUBLIC[name]


def _home(name: str) -> str | None:
    for mod_name in SUBPACKAGES:
        if name in (getattr(importlib.import_module(mod_name), "__all__", None) or ()):
            return mod_name
    return None


# ---------------------------------------------------------------------------------------------
# small valid inputs
# ---------------------------------------------------------------------------------------------


def X(n: int = 40, d: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def T(n: int = 16, d: int = 4, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g)


def U(n: int = 16, d: int = 4, seed: int = 0) -> torch.Tensor:
    t = T(n, d, seed)
    return t / t.norm(dim=1, keepdim=True)


def P(n: int = 16, k: int = 5, seed: int = 0) -> torch.Tensor:
    return torch.softmax(T(n, k, seed), dim=1)


def SPD(d: int = 3, scale: float = 1.0) -> np.ndarray:
    a = np.random.default_rng(1).normal(size=(d, d))
    return scale * (a @ a.T / d + np.eye(d))


def JOINT() -> np.ndarray:
    return np.array([[1.0, 0.0, 0.6, 0.0], [0.0, 1.0, 0.0, 0.3],
                     [0.6, 0.0, 1.0, 0.0], [0.0, 0.3, 0.0, 1.0]])


def NET():
    return api("cpa_mlp")([3, 6, 2], seed=0)


def PROTOS() -> np.ndarray:
    return np.array([[0.1, 0.2, -0.1], [1.0, -0.5, 0.3]])


def MIXTURE():
    return api("output_mixture")(NET(), PROTOS(), 0.01 * np.eye(3))


def PROC():
    return api("make_process")("cs_p1.0", seed=0, n_content=2, n_style=2)


def ENC(dim_in: int = 4, dim_out: int = 3, output: str = "none"):
    torch.manual_seed(0)
    return api("make_mlp_encoder")(dim_in, dim_out, hidden=(6,), output=output)


def METHOD(name: str = "simclr"):
    proc = PROC()
    return api("make_method")(name, dim_in=proc.dim_x, dim_out=3, hidden=(8,))


def CFG(**kw):
    base = {"steps": 2, "batch_size": 16, "device": "cpu", "progress": False, "log_every": 1}
    base.update(kw)
    return api("TrainConfig")(**base)


def _log_q(x, y):
    return -0.5 * np.sum((np.asarray(y) - 0.5 * np.asarray(x)) ** 2, axis=1)


# ---------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------

#: parameters whose non-positive value is garbage, wherever they appear (0, -1; NaN for floats)
POSITIVE_NAMES = {
    "kappa", "tau", "temperature", "student_temp", "teacher_temp", "warmup_teacher_temp",
    "sigma", "k", "scale", "lr", "epsilon", "bandwidth", "df", "eps_sq", "n", "n_samples",
    "steps", "batch_size", "n_permutations", "n_iters", "sinkhorn_iterations", "max_iter",
    "n_batches", "n_mc", "dim", "dim_x", "dim_y", "dim_in", "dim_out", "n_classes", "order",
    "resolution", "max_steps", "n_test", "n_exit_samples", "n_fit", "n_eval", "n_kernel_fit",
    "extent", "c", "length", "out_dim", "n_components", "embed_dim", "n_epochs", "n_steps",
    "hidden_dim", "mu", "alpha_kernel", "speed_abs", "epsilon_width",
}


@dataclass
class Entry:
    """A valid call and the bad variants to derive from it.

    ``build()`` returns ``(callable, kwargs)``; it is called afresh for every case so no state
    leaks between cases. ``arrays`` get NaN/inf/ndim/empty variants (``array_variants``
    restricts which), ``pairs`` mismatched sample counts, ``few`` maps a tuple of arguments to
    a too-small row count, ``cov`` non-positive-definite variants, ``positive`` extra
    parameters to make non-positive (``POSITIVE_NAMES`` are picked up automatically),
    ``options`` extra string options (string-valued parameters are picked up automatically,
    ``no_options`` excludes some), ``extra`` hand-written ``(label, arg, value)`` cases where
    ``value`` may be a callable ``kwargs -> kwargs``.
    """

    build: Callable[[], tuple[Callable, dict]]
    arrays: tuple[str, ...] = ()
    array_variants: tuple[str, ...] = ("nan", "inf", "ndim", "empty")
    pairs: tuple[tuple[str, str], ...] = ()
    few: dict[tuple[str, ...], int] = field(default_factory=dict)
    cov: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    no_positive: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    no_options: tuple[str, ...] = ()
    extra: tuple[tuple[str, str, Any], ...] = ()


def method(ctor: Callable[[], Any], attr: str, /, **kw) -> Callable[[], tuple[Callable, dict]]:
    """Build a bound method of a fresh object."""
    return lambda: (getattr(ctor(), attr), {k: (v() if getattr(v, "_lazy", False) else v)
                                            for k, v in kw.items()})


def call(public_name: str, /, **kw) -> Callable[[], tuple[Callable, dict]]:
    """Build a call of the public function ``public_name`` with ``kw`` (``lazy`` values are
    built afresh for every call)."""
    return lambda: (api(public_name), {k: (v() if callable(v) and not isinstance(v, nn.Module)
                                     and getattr(v, "_lazy", False) else v)
                                 for k, v in kw.items()})


def lazy(f):
    f._lazy = True
    return f


def override(v):
    """A transform that sets the given keyword arguments."""
    return lambda kw: {**kw, **v}


TABLE: dict[str, Entry] = {}


def add(name: str, entry: Entry) -> None:
    assert name not in TABLE, name
    TABLE[name] = entry


# --- generative ------------------------------------------------------------------------------
add("BoxProcess", Entry(call("BoxProcess", dim=3, seed=0, mixing_layers=1),
                        extra=(("cond_thresh_ratio<0", "cond_thresh_ratio",
                                override({"cond_thresh_ratio": -1.0})),)))
add("BoxProcess.sample_pairs", Entry(method(lambda: api("BoxProcess")(dim=3, seed=0,
                                                                     mixing_layers=1),
                                            "sample_pairs", n=8, seed=0)))
add("ContentStyleProcess", Entry(call("ContentStyleProcess", n_content=2, n_style=2, seed=0,
                                      mixing_layers=1),
                                 positive=("n_content", "n_style"),
                                 extra=(("p_change>1", "p_change", override({"p_change": 1.5})),
                                        ("p_change=nan", "p_change",
                                         override({"p_change": math.nan})))))
add("ContentStyleProcess.sample_latents", Entry(method(PROC, "sample_latents", n=8, seed=0)))
add("SphereProcess", Entry(call("SphereProcess", dim=3, seed=0, mixing_layers=1)))
add("SphereProcess.mix", Entry(method(lambda: api("SphereProcess")(dim=3, seed=0,
                                                                  mixing_layers=1),
                                      "mix", z=lazy(lambda: U(8, 3).numpy().astype(float))),
                               arrays=("z",), array_variants=("nan", "inf", "ndim")))
add("MixingMLP", Entry(call("MixingMLP", weights=[np.eye(3), 2 * np.eye(3)]),
                       positive=("negative_slope",),
                       extra=(("weights=[]", "weights", override({"weights": []})),
                              ("weights nan", "weights",
                               override({"weights": [np.full((3, 3), np.nan)]})),
                              ("weights non-square", "weights",
                               override({"weights": [np.ones((3, 2))]})))))
add("MixingMLP.forward", Entry(method(lambda: api("MixingMLP")([np.eye(3), 2 * np.eye(3)]),
                                      "forward", z=lazy(lambda: T(8, 3))),
                               arrays=("z",), array_variants=("nan", "inf", "ndim")))
add("make_mixing_mlp", Entry(call("make_mixing_mlp", dim=3, n_layers=2, seed=0),
                             positive=("n_layers",),
                             extra=(("cond_thresh_ratio<0", "cond_thresh_ratio",
                                     override({"cond_thresh_ratio": -1.0})),)))
add("make_process", Entry(call("make_process", name="sphere_vmf", seed=0, dim=3,
                               mixing_layers=1),
                          options=("name",),
                          extra=(("unknown override", "bogus_override",
                                  override({"bogus_override": 1})),)))
add("sample_truncated_conditional",
    Entry(call("sample_truncated_conditional", loc=lazy(lambda: np.full((5, 3), 0.5)),
               scale=0.1, seed=0),
          arrays=("loc",), array_variants=("nan", "inf"),
          extra=(("lo>=hi", "lo", override({"lo": 1.0, "hi": 0.0})),
                 ("loc outside box", "loc", override({"loc": np.full((5, 3), 2.0)})))))
add("sample_uniform_box", Entry(call("sample_uniform_box", n=5, dim=3, seed=0),
                                extra=(("lo>=hi", "lo", override({"lo": 1.0, "hi": 0.0})),
                                       ("lo=nan", "lo", override({"lo": math.nan})))))
add("sample_uniform_sphere", Entry(call("sample_uniform_sphere", n=5, dim=3, seed=0)))
add("sample_vmf", Entry(call("sample_vmf", mu=lazy(lambda: np.array([1.0, 0.0, 0.0])),
                             kappa=2.0, n=5, seed=0),
                        arrays=("mu",), array_variants=("nan", "inf", "empty"),
                        extra=(("mu not unit", "mu", override({"mu": np.array([2.0, 0, 0])})),)))
add("vmf_mean_resultant_length", Entry(call("vmf_mean_resultant_length", dim=3, kappa=2.0)))

# --- info ------------------------------------------------------------------------------------
add("entropy_gaussian", Entry(call("entropy_gaussian", cov=lazy(SPD)), arrays=("cov",),
                              cov=("cov",)))
add("mi_gaussian", Entry(call("mi_gaussian", cov_joint=lazy(JOINT), dim_x=2),
                         arrays=("cov_joint",), cov=("cov_joint",),
                         extra=(("dim_x>=dim", "dim_x", override({"dim_x": 4})),)))
add("mi_gaussian_cca", Entry(call("mi_gaussian_cca",
                                  canonical_correlations=lazy(lambda: np.array([0.5, 0.3]))),
                             arrays=("canonical_correlations",),
                             array_variants=("nan", "inf", "ndim"),
                             extra=(("rho=1", "canonical_correlations",
                                     override({"canonical_correlations": np.array([1.0])})),
                                    ("rho>1", "canonical_correlations",
                                     override({"canonical_correlations": np.array([1.5])})))))
add("entropy_affine", Entry(call("entropy_affine", entropy_x=1.0,
                                 matrix=lazy(lambda: 2.0 * np.eye(2))),
                            arrays=("matrix",),
                            extra=(("entropy_x=nan", "entropy_x",
                                    override({"entropy_x": math.nan})),
                                   ("singular matrix", "matrix",
                                    override({"matrix": np.zeros((2, 2))})),
                                   ("non-square matrix", "matrix",
                                    override({"matrix": np.ones((2, 3))})))))
add("entropy_uniform_sphere", Entry(call("entropy_uniform_sphere", dim=3)))
add("entropy_vmf", Entry(call("entropy_vmf", kappa=2.0, dim=3), no_positive=("kappa",),
                         extra=(("kappa<0", "kappa", override({"kappa": -1.0})),)))  # 0: uniform
_MEANS = lazy(lambda: np.array([[0.0, 0.0], [2.0, 1.0]]))
add("entropy_mixture_mc", Entry(call("entropy_mixture_mc", means=_MEANS,
                                     covs=lazy(lambda: np.stack([np.eye(2), 0.5 * np.eye(2)])),
                                     n_samples=200, seed=0),
                                arrays=("means", "covs"), cov=("covs",),
                                extra=(("confidence>1", "confidence",
                                        override({"confidence": 1.5})),
                                       ("weights<0", "weights",
                                        override({"weights": np.array([1.5, -0.5])})),
                                       ("weights nan", "weights",
                                        override({"weights": np.array([np.nan, 0.5])})))))
add("entropy_mixture_bounds", Entry(call("entropy_mixture_bounds", means=_MEANS,
                                         covs=lazy(lambda: np.stack([np.eye(2), np.eye(2)]))),
                                    arrays=("means", "covs"), cov=("covs",),
                                    extra=(("unknown method", "methods",
                                            override({"methods": ("bogus",)})),
                                           ("alpha>1", "alpha", override({"alpha": 1.5})),
                                           ("weights<0", "weights",
                                            override({"weights": np.array([1.5, -0.5])})),
                                           ("covs=-1", "covs", override({"covs": -1.0})))))
add("mi_mixture_mc", Entry(call("mi_mixture_mc", means=_MEANS, covs=0.5, dim_x=1,
                                n_samples=200, seed=0),
                           arrays=("means",),
                           extra=(("dim_x>=dim", "dim_x", override({"dim_x": 2})),
                                  ("covs=0", "covs", override({"covs": 0.0})))))
add("mi_ksg", Entry(call("mi_ksg", x=lazy(lambda: X(40, 1)), y=lazy(lambda: X(40, 1, 1)),
                         seed=0),
                    arrays=("x", "y"), pairs=(("x", "y"),), few={("x", "y"): 3}))
add("entropy_knn", Entry(call("entropy_knn", x=lazy(lambda: X(40, 2)), seed=0),
                         arrays=("x",), few={("x",): 3},
                         extra=(("jitter<0", "jitter", override({"jitter": -1.0})),)))
add("entropy_gaussian_plugin", Entry(call("entropy_gaussian_plugin", x=lazy(lambda: X(40, 3))),
                                     arrays=("x",), few={("x",): 3},
                                     extra=(("n=dim+1 with bias_correction", "x",
                                             override({"x": X(4, 3), "bias_correction": True})),)))
add("mi_gaussian_plugin", Entry(call("mi_gaussian_plugin", x=lazy(lambda: X(40, 2)),
                                     y=lazy(lambda: X(40, 1, 1))),
                                arrays=("x", "y"), pairs=(("x", "y"),), few={("x", "y"): 3}))
add("logdet_entropy", Entry(call("logdet_entropy", x=lazy(lambda: X(40, 3))),
                            arrays=("x",), positive=("beta",), few={("x",): 1}))
add("mi_logdet", Entry(call("mi_logdet", x=lazy(lambda: X(40, 2)), y=lazy(lambda: X(40, 2, 1))),
                       arrays=("x", "y"), pairs=(("x", "y"),), few={("x", "y"): 1},
                       extra=(("beta=0", "beta", override({"beta": 0.0})),
                              ("beta=-1", "beta", override({"beta": -1.0})))))
add("logdet_entropy_torch", Entry(call("logdet_entropy_torch", z=lazy(lambda: T(16, 3))),
                                  arrays=("z",), positive=("beta",), few={("z",): 1}))
add("pairwise_entropy_torch", Entry(call("pairwise_entropy_torch", z=lazy(lambda: T(16, 3))),
                                    arrays=("z",)))
for _b in ("infonce_lower_bound", "nwj_lower_bound", "dv_lower_bound"):
    add(_b, Entry(call(_b, scores=lazy(lambda: T(8, 8))), arrays=("scores",),
                  extra=(("non-square scores", "scores", override({"scores": T(8, 5)})),)))
add("mine_surrogate_loss", Entry(call("mine_surrogate_loss", scores=lazy(lambda: T(8, 8)),
                                      log_ema=None),
                                 arrays=("scores",),
                                 extra=(("ema_rate>1", "ema_rate", override({"ema_rate": 2.0})),
                                        ("ema_rate=0", "ema_rate", override({"ema_rate": 0.0})),
                                        ("log_ema nan", "log_ema",
                                         override({"log_ema": torch.tensor(float("nan"))})))))
add("er_lower_bound", Entry(call("er_lower_bound", log_q=lazy(lambda: T(16, 1)[:, 0]),
                                 entropy_y=1.0),
                            arrays=("log_q",),
                            extra=(("entropy_y=nan", "entropy_y",
                                    override({"entropy_y": math.nan})),)))
add("mi_lower_bound_er", Entry(call("mi_lower_bound_er", x=lazy(lambda: X(40, 1)),
                                    y=lazy(lambda: X(40, 1, 1)), log_q=_log_q, entropy_y=1.4),
                               arrays=("x", "y"), pairs=(("x", "y"),),
                               extra=(("log_q not callable", "log_q", override({"log_q": 3.0})),
                                      ("log_q returns nan", "log_q",
                                       override({"log_q": lambda x, y: np.full(len(x), np.nan)})),
                                      ("entropy_y=nan", "entropy_y",
                                       override({"entropy_y": math.nan})))))
add("SeparableCritic", Entry(call("SeparableCritic", dim_x=2, dim_y=2),
                             extra=(("hidden=(0,)", "hidden", override({"hidden": (0,)})),)))
add("SeparableCritic.forward", Entry(method(lambda: api("SeparableCritic")(2, 2), "forward",
                                            x=lazy(lambda: T(8, 2)), y=lazy(lambda: T(8, 2, 1))),
                                     arrays=("x", "y"),  # n_x != n_y is valid: all pairs
                                     extra=(("x wrong dim", "x", override({"x": T(8, 3)})),)))
add("ConcatCritic", Entry(call("ConcatCritic", dim_x=2, dim_y=2),
                          extra=(("hidden=(0,)", "hidden", override({"hidden": (0,)})),)))
add("ConcatCritic.forward", Entry(method(lambda: api("ConcatCritic")(2, 2), "forward",
                                         x=lazy(lambda: T(8, 2)), y=lazy(lambda: T(8, 2, 1))),
                                  arrays=("x", "y"),  # n_x != n_y is valid: all pairs
                                  extra=(("x wrong dim", "x", override({"x": T(8, 3)})),)))
add("GaussianDecoder", Entry(call("GaussianDecoder", dim_x=2, dim_y=2)))
add("GaussianDecoder.log_prob", Entry(method(lambda: api("GaussianDecoder")(2, 2), "log_prob",
                                             x=lazy(lambda: T(8, 2)),
                                             y=lazy(lambda: T(8, 2, 1))),
                                      arrays=("x", "y"), pairs=(("x", "y"),),
                                      extra=(("y (n,) for dim_y=2", "y",
                                              override({"y": T(8, 1)[:, 0]})),
                                             ("y wrong dim", "y", override({"y": T(8, 3)})))))
add("VMFDecoder", Entry(call("VMFDecoder", dim_x=2, dim_y=3)))
add("VMFDecoder.log_prob", Entry(method(lambda: api("VMFDecoder")(2, 3), "log_prob",
                                        x=lazy(lambda: T(8, 2)), y=lazy(lambda: U(8, 3, 1))),
                                 arrays=("x", "y"), pairs=(("x", "y"),),
                                 extra=(("y not unit", "y", override({"y": 3 * U(8, 3)})),)))
_VME = {"steps": 2, "batch_size": 16, "eval_every": 1, "seed": 0}
add("VariationalMIEstimator", Entry(call("VariationalMIEstimator", **_VME),
                                    positive=("eval_every",),
                                    extra=(("validation_fraction>1", "validation_fraction",
                                            override({"validation_fraction": 1.5})),
                                           ("ema_rate>1", "ema_rate",
                                            override({"ema_rate": 2.0})))))
add("VariationalMIEstimator.fit", Entry(method(lambda: api("VariationalMIEstimator")(**_VME),
                                               "fit", x=lazy(lambda: X(40, 1)),
                                               y=lazy(lambda: X(40, 1, 1))),
                                        arrays=("x", "y"), pairs=(("x", "y"),),
                                        few={("x", "y"): 1}))
add("ERBoundEstimator", Entry(call("ERBoundEstimator", **_VME),
                              positive=("eval_every",),
                              extra=(("validation_fraction>1", "validation_fraction",
                                      override({"validation_fraction": 1.5})),)))
add("ERBoundEstimator.fit", Entry(method(lambda: api("ERBoundEstimator")(**_VME), "fit",
                                         x=lazy(lambda: X(40, 1)), y=lazy(lambda: X(40, 1, 1))),
                                  arrays=("x", "y"), pairs=(("x", "y"),), few={("x", "y"): 1}))


def _fitted_er():
    return api("ERBoundEstimator")(**_VME).fit(X(40, 1), X(40, 1, 1))


add("ERBoundEstimator.log_prob", Entry(method(_fitted_er, "log_prob", x=lazy(lambda: X(10, 1)),
                                              y=lazy(lambda: X(10, 1, 1))),
                                       arrays=("x", "y"), pairs=(("x", "y"),),
                                       extra=(("x wrong dim", "x", override({"x": X(10, 2)})),)))

# --- info.tasks ------------------------------------------------------------------------------
add("CorrelatedGaussian", Entry(call("CorrelatedGaussian", cov_joint=lazy(JOINT), dim_x=2),
                                arrays=("cov_joint",), cov=("cov_joint",),
                                extra=(("dim_x>=dim", "dim_x", override({"dim_x": 4})),
                                       ("mean nan", "mean",
                                        override({"mean": np.array([np.nan, 0, 0, 0])})),
                                       ("mean wrong length", "mean",
                                        override({"mean": np.zeros(3)})))))
add("CorrelatedGaussian.sample", Entry(method(lambda: api("CorrelatedGaussian")(JOINT(), 2),
                                              "sample", n=5, seed=0)))
add("CorrelatedGaussian.entropy", Entry(method(lambda: api("CorrelatedGaussian")(JOINT(), 2),
                                               "entropy", which="x"), options=("which",)))
add("StudentT", Entry(call("StudentT", dispersion=lazy(JOINT), dim_x=2, df=3.0),
                      arrays=("dispersion",), cov=("dispersion",)))
add("TransformedTask", Entry(call("TransformedTask",
                                  base=lazy(lambda: api("CorrelatedGaussian")(JOINT(), 2)),
                                  fx=api("cube")),
                             extra=(("base not a task", "base", override({"base": 3.0})),
                                    ("fx not callable", "fx", override({"fx": 3.0})))))
add("AdditiveUniform", Entry(call("AdditiveUniform", epsilon=0.5)))
add("UniformVMF", Entry(call("UniformVMF", dim=3, kappa=2.0), no_positive=("kappa",),
                        extra=(("kappa<0", "kappa", override({"kappa": -1.0})),)))  # 0: I = 0
add("Spiral", Entry(call("Spiral", speed=0.3, plane=(0, 1)),
                    extra=(("speed=nan", "speed", override({"speed": math.nan})),
                           ("plane repeated", "plane", override({"plane": (0, 0)})),
                           ("plane negative", "plane", override({"plane": (-1, 0)})))))
add("Spiral.__call__", Entry(method(lambda: api("Spiral")(0.3, (0, 1)), "__call__",
                                    x=lazy(lambda: X(10, 2))),
                             arrays=("x",), array_variants=("nan", "inf", "ndim"),
                             extra=(("x too few columns", "x", override({"x": X(10, 1)})),)))
add("GaussianToMixture", Entry(call("GaussianToMixture",
                                    means=lazy(lambda: np.array([0.0, 5.0])),
                                    weights=lazy(lambda: np.array([0.3, 0.7]))),
                               arrays=("means", "weights"), array_variants=("nan", "inf", "empty"),
                               pairs=(("means", "weights"),),
                               extra=(("weights<0", "weights",
                                       override({"weights": np.array([1.5, -0.5])})),)))
add("GaussianToMixture.__call__", Entry(method(lambda: api("GaussianToMixture")([0.0, 5.0],
                                                                              [0.3, 0.7]),
                                               "__call__", x=lazy(lambda: X(10, 1))),
                                        arrays=("x",), array_variants=("nan", "inf")))
add("GaussianMixtureTask", Entry(call("GaussianMixtureTask", means=_MEANS, covs=0.5, dim_x=1,
                                      n_mc=200),
                                 arrays=("means",),
                                 extra=(("dim_x>=dim", "dim_x", override({"dim_x": 2})),
                                        ("covs=0", "covs", override({"covs": 0.0})),
                                        ("weights<0", "weights",
                                         override({"weights": np.array([1.5, -0.5])})))))

# --- objectives ------------------------------------------------------------------------------
_PAIR = {"z_a": lazy(lambda: T()), "z_b": lazy(lambda: T(seed=1))}
_UPAIR = {"z_a": lazy(lambda: U()), "z_b": lazy(lambda: U(seed=1))}


def pair_entry(name: str, few: int = 1, unit: bool = False, **kw) -> Entry:
    return Entry(call(name, **(_UPAIR if unit else _PAIR), **kw), arrays=("z_a", "z_b"),
                 pairs=(("z_a", "z_b"),), few={("z_a", "z_b"): few})


add("barlow_twins_loss", pair_entry("barlow_twins_loss"))
TABLE["barlow_twins_loss"].extra = (("eps<0", "eps", override({"eps": -1.0})),
                                    ("lambda_offdiag<0", "lambda_offdiag",
                                     override({"lambda_offdiag": -1.0})))
add("byol_loss", Entry(call("byol_loss", p_a=lazy(lambda: T()), z_b=lazy(lambda: T(seed=1))),
                       arrays=("p_a", "z_b"), pairs=(("p_a", "z_b"),)))
add("cosine_momentum", Entry(call("cosine_momentum", base=0.99, step=1, total_steps=10),
                             positive=("total_steps",),
                             extra=(("base>1", "base", override({"base": 1.5})),
                                    ("step<0", "step", override({"step": -1})),
                                    ("step>total", "step", override({"step": 11})))))
add("ema_update_", Entry(call("ema_update_", target=lazy(lambda: nn.Linear(3, 2)),
                              online=lazy(lambda: nn.Linear(3, 2)), momentum=0.9),
                         extra=(("momentum>1", "momentum", override({"momentum": 1.5})),
                                ("momentum=nan", "momentum", override({"momentum": math.nan})),
                                ("online mismatched", "online",
                                 override({"online": nn.Linear(4, 2)})))))
add("entropy_vmf_kde", Entry(call("entropy_vmf_kde", z=lazy(lambda: U())), arrays=("z",),
                             few={("z",): 1},
                             extra=(("z not unit", "z", override({"z": 3 * U()})),)))
add("er_loss", pair_entry("er_loss", unit=True))
add("infonce_loss", Entry(call("infonce_loss", **_PAIR), arrays=("z_a", "z_b"),
                          pairs=(("z_a", "z_b"),), few={("z_a", "z_b"): 1},
                          extra=(("z_neg nan", "z_neg",
                                  override({"z_neg": torch.full((4, 4), float("nan"))})),
                                 ("z_neg wrong dim", "z_neg", override({"z_neg": T(4, 3)})))))
add("log_bessel_iv", Entry(call("log_bessel_iv", nu=0.5, kappa=2.0),
                           extra=(("kappa=nan", "kappa", override({"kappa": math.nan})),
                                  ("kappa<0", "kappa", override({"kappa": -1.0})),
                                  ("nu=nan", "nu", override({"nu": math.nan})))))
add("log_vmf_normalizer", Entry(call("log_vmf_normalizer", dim=3, kappa=2.0),
                                extra=(("kappa=nan", "kappa", override({"kappa": math.nan})),
                                       ("kappa<0", "kappa", override({"kappa": -1.0})))))
add("make_predictor", Entry(call("make_predictor", dim=4, hidden=8), positive=("hidden",)))
add("nt_xent_loss", pair_entry("nt_xent_loss"))
add("reconstruction_vmf", pair_entry("reconstruction_vmf", unit=True))
add("vicreg_covariance", Entry(call("vicreg_covariance", z=lazy(lambda: T())), arrays=("z",),
                               few={("z",): 1}))
add("vicreg_invariance", pair_entry("vicreg_invariance"))
add("vicreg_loss", pair_entry("vicreg_loss"))
TABLE["vicreg_loss"].positive = ("gamma",)
TABLE["vicreg_loss"].extra = (("eps<0", "eps", override({"eps": -1.0})),)
add("vicreg_variance", Entry(call("vicreg_variance", z=lazy(lambda: T())), arrays=("z",),
                             few={("z",): 1}, positive=("gamma",),
                             extra=(("eps<0", "eps", override({"eps": -1.0})),)))


def _cim():
    return api("CorInfoMaxCovariance")(4)


add("CorInfoMaxCovariance", Entry(call("CorInfoMaxCovariance", dim=4),
                                  positive=("r_init",),
                                  extra=(("lambda_r>1", "lambda_r", override({"lambda_r": 1.5})),
                                         ("r_eps<0", "r_eps", override({"r_eps": -1.0})),
                                         ("lambda_mu>1", "lambda_mu",
                                          override({"lambda_mu": 1.5})))))
add("CorInfoMaxCovariance.update", Entry(method(_cim, "update", **_PAIR), arrays=("z_a", "z_b"),
                                         pairs=(("z_a", "z_b"),),
                                         extra=(("z_a wrong dim", "z_a",
                                                 override({"z_a": T(16, 3), "z_b": T(16, 3)})),)))
add("DINOCenter", Entry(call("DINOCenter", out_dim=5),
                        extra=(("momentum>1", "momentum", override({"momentum": 1.5})),)))
add("DINOCenter.update", Entry(method(lambda: api("DINOCenter")(5), "update",
                                      teacher_logits=lazy(lambda: T(8, 5))),
                               arrays=("teacher_logits",), array_variants=("nan", "inf", "ndim"),
                               extra=(("wrong out_dim", "teacher_logits",
                                       override({"teacher_logits": T(8, 4)})),)))
add("GHA", Entry(call("GHA", dim_x=4, n_components=2, seed=0),
                 extra=(("n_components>dim_x", "n_components", override({"n_components": 5})),)))
add("GHA.update", Entry(method(lambda: api("GHA")(4, 2, seed=0), "update", x=lazy(lambda: T())),
                        arrays=("x",), extra=(("x wrong dim", "x", override({"x": T(16, 3)})),)))
add("SecondMomentEMA", Entry(call("SecondMomentEMA", dim=4),
                             extra=(("decay>1", "decay", override({"decay": 1.5})),)))
add("SecondMomentEMA.update", Entry(method(lambda: api("SecondMomentEMA")(4), "update",
                                           z=lazy(lambda: T())),
                                    arrays=("z",), extra=(("z wrong dim", "z",
                                                           override({"z": T(16, 3)})),)))
add("SwAVQueue", Entry(call("SwAVQueue", length=8, dim=4)))
add("SwAVQueue.update", Entry(method(lambda: api("SwAVQueue")(32, 4), "update",
                                     z=lazy(lambda: T())),
                              arrays=("z",),
                              extra=(("z wrong dim", "z", override({"z": T(16, 3)})),)))
add("clip_norm", Entry(call("clip_norm", z=lazy(lambda: T())), arrays=("z",)))
add("corinfomax_loss", Entry(call("corinfomax_loss", **_PAIR, state=lazy(_cim)),
                             arrays=("z_a", "z_b"), pairs=(("z_a", "z_b"),),
                             extra=(("state not CorInfoMaxCovariance", "state",
                                     override({"state": 3.0})),)))


def _logits(seed=0, n=8, k=5):
    return [T(n, k, seed), T(n, k, seed + 1)]


def _list_nan(kw, arg):
    v = list(kw[arg])
    v[0] = v[0].clone()
    v[0][0, 0] = float("nan")
    return {**kw, arg: v}


_DINO_EXTRA = (
    ("student_logits nan", "student_logits", lambda kw: _list_nan(kw, "student_logits")),
    ("teacher_logits nan", "teacher_logits", lambda kw: _list_nan(kw, "teacher_logits")),
    ("student_logits empty list", "student_logits", override({"student_logits": []})),
    ("teacher_logits empty list", "teacher_logits", override({"teacher_logits": []})),
    ("student_logits 1-D", "student_logits",
     lambda kw: {**kw, "student_logits": [t[0] for t in kw["student_logits"]]}),
    ("teacher_logits rows mismatch", "teacher_logits",
     lambda kw: {**kw, "teacher_logits": [t[:-1] for t in kw["teacher_logits"]]}),
    ("teacher_logits wrong width", "teacher_logits",
     lambda kw: {**kw, "teacher_logits": [t[:, :-1] for t in kw["teacher_logits"]]}),
)
add("dino_loss", Entry(call("dino_loss", student_logits=lazy(_logits),
                            teacher_logits=lazy(lambda: _logits(5)),
                            center=lazy(lambda: torch.zeros(1, 5))),
                       arrays=("center",), array_variants=("nan", "inf"),
                       extra=_DINO_EXTRA + (("center wrong width", "center",
                                             override({"center": torch.zeros(1, 4)})),)))
add("entropy_discrete", Entry(call("entropy_discrete", probs=lazy(lambda: P())),
                              arrays=("probs",), few={("probs",): 0},
                              extra=(("probs<0", "probs", override({"probs": P() - 1.0})),)))
add("er_byol_loss", Entry(call("er_byol_loss", p_a=lazy(lambda: U()), p_b=lazy(lambda: U(seed=1)),
                               target_a=lazy(lambda: U(seed=2)),
                               target_b=lazy(lambda: U(seed=3))),
                          arrays=("p_a", "p_b", "target_a", "target_b"),
                          pairs=(("p_a", "p_b"), ("p_a", "target_b"), ("p_b", "target_a")),
                          extra=(("online_a nan", "online_a",
                                  override({"online_a": torch.full((16, 4), float("nan"))})),)))
add("er_dino_loss", Entry(call("er_dino_loss", student_logits=lazy(_logits),
                               teacher_logits=lazy(lambda: _logits(5))),
                          extra=_DINO_EXTRA + (("center nan", "center",
                                                override({"center": torch.full((1, 5),
                                                                             float("nan"))})),)))
add("er_simclr_loss", pair_entry("er_simclr_loss", unit=True))
add("er_discrete_loss", Entry(call("er_discrete_loss", p_a=lazy(lambda: P()),
                                   p_b=lazy(lambda: P(seed=1))),
                              arrays=("p_a", "p_b"), pairs=(("p_a", "p_b"),),
                              few={("p_a", "p_b"): 0},
                              extra=(("p_a<0", "p_a", override({"p_a": P() - 1.0})),)))
add("f_alpha", Entry(call("f_alpha", u=lazy(lambda: T().exp()), alpha=2.0),
                     arrays=("u",), array_variants=("nan", "inf"),
                     extra=(("alpha=nan", "alpha", override({"alpha": math.nan})),)))
add("f_mi_alpha_loss", pair_entry("f_mi_alpha_loss"))
TABLE["f_mi_alpha_loss"].extra = (("alpha=nan", "alpha", override({"alpha": math.nan})),)
add("gha_step", Entry(call("gha_step", weights=lazy(lambda: T(2, 4)), x=lazy(lambda: T()),
                           lr=0.01),
                      arrays=("weights", "x"),
                      extra=(("x wrong dim", "x", override({"x": T(16, 3)})),)))


def _spd_t(d=4):
    return torch.as_tensor(SPD(d), dtype=torch.float64)


add("logdet_exact", Entry(call("logdet_exact", mat=lazy(_spd_t)), arrays=("mat",),
                          cov=("mat",)))
add("logdet_taylor", Entry(call("logdet_taylor", mat=lazy(_spd_t)), arrays=("mat",),
                           cov=("mat",),
                           extra=(("beta=0", "beta", override({"beta": 0.0})),
                                  ("beta=-1", "beta", override({"beta": -1.0})))))
add("logdet_taylor_error_bound", Entry(call("logdet_taylor_error_bound", mat=lazy(_spd_t)),
                                       arrays=("mat",), cov=("mat",),
                                       extra=(("beta=-1", "beta", override({"beta": -1.0})),)))
add("taylor_rescaling", Entry(call("taylor_rescaling", mat=lazy(_spd_t)), arrays=("mat",),
                              cov=("mat",),
                              extra=(("beta=-1", "beta", override({"beta": -1.0})),)))
add("mec_lamda_inv", Entry(call("mec_lamda_inv", batch_size=16, dim=4)))
add("mec_lamda_inv_schedule", Entry(call("mec_lamda_inv_schedule", n_steps=10, base=1.0,
                                         warmup_steps=2),
                                    positive=("base", "start_factor"),
                                    extra=(("warmup_steps<0", "warmup_steps",
                                            override({"warmup_steps": -1})),)))
add("mec_loss", Entry(call("mec_loss", p_a=lazy(lambda: T()), p_b=lazy(lambda: T(seed=1)),
                           z_a=lazy(lambda: T(seed=2)), z_b=lazy(lambda: T(seed=3))),
                      arrays=("p_a", "p_b", "z_a", "z_b"),
                      pairs=(("p_a", "p_b"), ("p_a", "z_b"), ("p_b", "z_a")),
                      positive=("lamda_inv",)))
add("mi_ggd_offset", Entry(call("mi_ggd_offset", dim_a=2, dim_b=2, shape=1.0),
                           positive=("dim_a", "dim_b", "shape")))
add("mi_second_order", pair_entry("mi_second_order", shape=1.0))
TABLE["mi_second_order"].positive = ("shape",)
TABLE["mi_second_order"].extra = (("eps<0", "eps", override({"eps": -1.0})),)


def _moment():
    return api("SecondMomentEMA")(4).update(T(seed=4)).moment.clone()


add("minc_loss", Entry(call("minc_loss", z_online=lazy(lambda: T()),
                            z_target=lazy(lambda: T(seed=1)), moment=lazy(_moment)),
                       arrays=("z_online", "z_target", "moment"),
                       pairs=(("z_online", "z_target"),),
                       extra=(("moment wrong shape", "moment",
                               override({"moment": torch.eye(3)})),)))
add("mmi_loss", pair_entry("mmi_loss"))
TABLE["mmi_loss"].extra = (("eps<0", "eps", override({"eps": -1.0})),
                           ("beta=-1", "beta", override({"beta": -1.0})))
add("reconstruction_discrete", Entry(call("reconstruction_discrete", p_a=lazy(lambda: P()),
                                          p_b=lazy(lambda: P(seed=1))),
                                     arrays=("p_a", "p_b"), pairs=(("p_a", "p_b"),),
                                     extra=(("p_a<0", "p_a", override({"p_a": P() - 1.0})),)))
add("sinkhorn_knopp", Entry(call("sinkhorn_knopp", scores=lazy(lambda: T(8, 5))),
                            arrays=("scores",), no_positive=("n_iters",),  # 0 iterations is valid
                            extra=(("n_iters<0", "n_iters", override({"n_iters": -1})),)))
add("spectral_contrastive_loss", pair_entry("spectral_contrastive_loss"))
add("swav_loss", Entry(call("swav_loss", scores_a=lazy(lambda: T(8, 5)),
                            scores_b=lazy(lambda: T(8, 5, 1))),
                       arrays=("scores_a", "scores_b"), pairs=(("scores_a", "scores_b"),),
                       no_positive=("sinkhorn_iterations",),  # 0 iterations is valid
                       extra=(("sinkhorn_iterations<0", "sinkhorn_iterations",
                               override({"sinkhorn_iterations": -1})),
                              ("queue_scores_a nan", "queue_scores_a",
                               override({"queue_scores_a": torch.full((4, 5), float("nan")),
                                       "queue_scores_b": T(4, 5)})),
                              ("queue_scores_a wrong width", "queue_scores_a",
                               override({"queue_scores_a": T(4, 3), "queue_scores_b": T(4, 3)})))))
add("teacher_temp_schedule", Entry(call("teacher_temp_schedule", n_epochs=5, warmup_epochs=2),
                                   extra=(("warmup_epochs<0", "warmup_epochs",
                                           override({"warmup_epochs": -1})),
                                          ("warmup_epochs>n_epochs", "warmup_epochs",
                                           override({"warmup_epochs": 6})))))
add("vicreg_entropy_loss", pair_entry("vicreg_entropy_loss", few=1))
TABLE["vicreg_entropy_loss"].positive = ("beta",)

# --- stats -----------------------------------------------------------------------------------
_LAB = lazy(lambda: (X(40, 1)[:, 0] > 0).astype(int))
_LAB_E = lazy(lambda: (X(40, 1, 1)[:, 0] > 0).astype(int))
add("downstream_labels", Entry(call("downstream_labels", latents=lazy(lambda: X(40, 2))),
                               arrays=("latents",), few={("latents",): 1}))
add("linear_probe_accuracy",
    Entry(call("linear_probe_accuracy", h_fit=lazy(lambda: X(40, 2)), y_fit=_LAB,
               h_eval=lazy(lambda: X(40, 2, 1)), y_eval=_LAB_E),
          arrays=("h_fit", "h_eval"), pairs=(("h_fit", "y_fit"), ("h_eval", "y_eval")),
          extra=(("y_fit nan", "y_fit", lambda kw: {**kw, "y_fit": np.where(
                     np.arange(40) == 0, np.nan, kw["y_fit"])}),
                 ("y_fit float", "y_fit", lambda kw: {**kw, "y_fit": kw["y_fit"] + 0.5}),
                 ("y_fit negative", "y_fit", lambda kw: {**kw, "y_fit": kw["y_fit"] - 1}),
                 ("y_eval nan", "y_eval", lambda kw: {**kw, "y_eval": np.where(
                     np.arange(40) == 0, np.nan, kw["y_eval"])}),
                 ("y_eval float", "y_eval", lambda kw: {**kw, "y_eval": kw["y_eval"] + 0.5}),
                 ("y_fit 2-D", "y_fit", lambda kw: {**kw, "y_fit": kw["y_fit"][:, None]}),
                 ("y_fit one class", "y_fit", lambda kw: {**kw, "y_fit": 0 * kw["y_fit"]}),
                 ("h_eval wrong dim", "h_eval", override({"h_eval": X(40, 3)})))))
add("correlation", Entry(call("correlation", x=lazy(lambda: X(20, 1)[:, 0]),
                               y=lazy(lambda: X(20, 1, 1)[:, 0]), n_boot=50, seed=0),
                          arrays=("x", "y"), pairs=(("x", "y"),), few={("x", "y"): 3},
                          positive=("n_boot",),
                          extra=(("confidence=1", "confidence", override({"confidence": 1.0})),
                                 ("confidence=nan", "confidence",
                                  override({"confidence": math.nan})),
                                 ("x constant", "x", override({"x": np.ones(20)})))))
_PROBE = lazy(lambda: api("fit_linear_probe")(X(40, 2), (X(40, 1)[:, 0] > 0).astype(int),
                                              n_classes=2))
_DELTA = (("delta=1", "delta", override({"delta": 1.0})),
          ("delta=0", "delta", override({"delta": 0.0})),
          ("delta=nan", "delta", override({"delta": math.nan})),
          ("probe not a LinearProbe", "probe", override({"probe": "probe"})),
          ("h wrong dim", "h", override({"h": X(40, 3)})))
add("fit_linear_probe", Entry(call("fit_linear_probe", h=lazy(lambda: X(40, 2)), y=_LAB,
                                   n_classes=2),
                              arrays=("h",), pairs=(("h", "y"),), few={("h", "y"): 1},
                              extra=(("y missing a class", "y", override({"n_classes": 3})),
                                     ("y float", "y", lambda kw: {**kw, "y": kw["y"] + 0.5}))))
add("generalization_bound_rademacher",
    Entry(call("generalization_bound_rademacher", probe=_PROBE, h=lazy(lambda: X(40, 2)),
               y=_LAB), arrays=("h",), pairs=(("h", "y"),), extra=_DELTA))
add("generalization_bound_ssl",
    Entry(call("generalization_bound_ssl", probe=_PROBE, h=lazy(lambda: X(40, 2)), y=_LAB,
               h_view_a=lazy(lambda: X(30, 2, 2)), h_view_b=lazy(lambda: X(30, 2, 3))),
          arrays=("h", "h_view_a", "h_view_b"), pairs=(("h", "y"), ("h_view_a", "h_view_b")),
          extra=_DELTA))
add("generalization_bound_pac_bayes",
    Entry(call("generalization_bound_pac_bayes", probe=_PROBE, h=lazy(lambda: X(40, 2)),
               y=_LAB, n_mc=4, seed=0), arrays=("h",), pairs=(("h", "y"),),
          extra=(*_DELTA, ("sigmas<0", "sigmas", override({"sigmas": [0.1, -1.0]})),
                 ("sigmas empty", "sigmas", override({"sigmas": []})),
                 ("sigmas nan", "sigmas", override({"sigmas": [math.nan]})))))
add("mcc", Entry(call("mcc", h=lazy(lambda: X(40, 2)), z=lazy(lambda: X(40, 2, 1))),
                 arrays=("h", "z"), pairs=(("h", "z"),), few={("h", "z"): 1}))
add("r2_identifiability", Entry(call("r2_identifiability", h_fit=lazy(lambda: X(40, 2)),
                                     z_fit=lazy(lambda: X(40, 2, 1)),
                                     h_eval=lazy(lambda: X(40, 2, 2)),
                                     z_eval=lazy(lambda: X(40, 2, 3)), seed=0),
                                arrays=("h_fit", "z_fit", "h_eval", "z_eval"),
                                pairs=(("h_fit", "z_fit"), ("h_eval", "z_eval")),
                                positive=("cv",),
                                extra=(("alphas empty", "alphas", override({"alphas": ()})),
                                       ("alphas<0", "alphas", override({"alphas": (-1.0,)})),
                                       ("gammas<0", "gammas",
                                        override({"gammas": (-1.0,), "method": "kernel"})))))
add("r2_kernel", Entry(call("r2_kernel", h=lazy(lambda: X(40, 2)), z=lazy(lambda: X(40, 2, 1)),
                            seed=0),
                       arrays=("h", "z"), pairs=(("h", "z"),), few={("h", "z"): 2},
                       positive=("max_fit_samples",),
                       extra=(("train_fraction>1", "train_fraction",
                               override({"train_fraction": 1.5})),
                              ("train_fraction=0", "train_fraction",
                               override({"train_fraction": 0.0})))))
add("r2_linear", Entry(call("r2_linear", h=lazy(lambda: X(40, 2)), z=lazy(lambda: X(40, 2, 1)),
                            seed=0),
                       arrays=("h", "z"), pairs=(("h", "z"),), few={("h", "z"): 2},
                       extra=(("train_fraction>1", "train_fraction",
                               override({"train_fraction": 1.5})),
                              ("train_fraction=0", "train_fraction",
                               override({"train_fraction": 0.0})))))

# --- cpa -------------------------------------------------------------------------------------
_NX = lazy(lambda: X(5, 3))
_NCOV = lazy(lambda: 0.01 * np.eye(3))
add("BasicBlock", Entry(call("BasicBlock", in_channels=2, out_channels=3),
                        positive=("in_channels", "out_channels", "stride")))
add("BasicBlock.forward", Entry(method(lambda: api("BasicBlock")(2, 3).eval(), "forward",
                                       x=lazy(lambda: torch.randn(1, 2, 4, 4))),
                                arrays=("x",), array_variants=("ndim",),
                                extra=(("x wrong channels", "x",
                                        override({"x": torch.randn(1, 3, 4, 4)})),)))
add("CPANetwork.__call__", Entry(method(lambda: api("trace_cpa")(NET()), "__call__",
                                        x=lazy(lambda: T(5, 3).double())),
                                 arrays=("x",), array_variants=("nan", "inf", "ndim"),
                                 extra=(("x wrong dim", "x", override({"x": T(5, 4).double()})),)))
add("OutputMixture.sample", Entry(method(MIXTURE, "sample",
                                         labels=lazy(lambda: np.array([0, 1, 1, 0]))),
                                  extra=(("labels negative", "labels",
                                          override({"labels": np.array([0, -1])})),
                                         ("labels out of range", "labels",
                                          override({"labels": np.array([0, 2])})),
                                         ("labels nan", "labels",
                                          override({"labels": np.array([0.0, np.nan])})),
                                         ("labels float", "labels",
                                          override({"labels": np.array([0.5, 1.0])})))))
add("boundary_distance", Entry(call("boundary_distance", net=lazy(NET), x=_NX),
                               arrays=("x",),
                               extra=(("x wrong dim", "x", override({"x": X(5, 4)})),)))


def _cme():
    mix = MIXTURE()
    z, labels = api("sample_output_law")(NET(), PROTOS(), 0.01 * np.eye(3), n_samples=20,
                                         seed=0)
    return api("component_moment_errors"), {"mixture": mix, "z": z, "labels": labels}


add("component_moment_errors", Entry(_cme, arrays=("z",), pairs=(("z", "labels"),),
                                     extra=(("labels negative", "labels",
                                             lambda kw: {**kw, "labels": kw["labels"] - 1}),
                                            ("labels nan", "labels",
                                             lambda kw: {**kw, "labels": np.where(
                                                 np.arange(len(kw["labels"])) == 0, np.nan,
                                                 kw["labels"])}),
                                            ("labels float", "labels",
                                             lambda kw: {**kw, "labels": kw["labels"] + 0.5}),
                                            ("labels out of range", "labels",
                                             lambda kw: {**kw, "labels": kw["labels"] + 5}),
                                            ("mixture not OutputMixture", "mixture",
                                             override({"mixture": 3.0})))))
add("cpa_cnn", Entry(call("cpa_cnn", in_shape=(1, 8, 8), channels=(2, 3), out_dim=2, seed=0),
                     extra=(("in_shape 2-D", "in_shape", override({"in_shape": (6, 6)})),
                            ("channels=(0,)", "channels", override({"channels": (0,)})))))
add("cpa_mlp", Entry(call("cpa_mlp", dims=[3, 6, 2], seed=0),
                     extra=(("dims too short", "dims", override({"dims": [3]})),
                            ("dims=0", "dims", override({"dims": [3, 0, 2]})))))
add("cpa_resnet", Entry(call("cpa_resnet", in_shape=(2, 6, 6), widths=(3, 4), out_dim=3, seed=0),
                        positive=("blocks_per_stage",),
                        extra=(("in_shape 2-D", "in_shape", override({"in_shape": (6, 6)})),
                               ("widths empty", "widths", override({"widths": ()})))))
for _f in ("energy_distance", "median_bandwidth", "mmd_rbf"):
    add(_f, Entry(call(_f, x=lazy(lambda: X(20, 2)), y=lazy(lambda: X(25, 2, 1))),
                  arrays=("x", "y"), few={("x", "y"): 1},
                  extra=(("y wrong dim", "y", override({"y": X(25, 3)})),)))
add("exit_probability_bounds", Entry(call("exit_probability_bounds", net=lazy(NET), x=_NX,
                                          noise_cov=_NCOV),
                                     arrays=("x", "noise_cov"), cov=("noise_cov",),
                                     extra=(("chunk_size=0", "chunk_size",
                                             override({"chunk_size": 0})),)))
add("exit_probability_mc", Entry(call("exit_probability_mc", net=lazy(NET), x=_NX,
                                      noise_cov=_NCOV, n_samples=50, seed=0),
                                 arrays=("x", "noise_cov"), cov=("noise_cov",),
                                 extra=(("confidence>1", "confidence",
                                         override({"confidence": 1.5})),)))
add("output_entropy_bounds", Entry(call("output_entropy_bounds", mixture=lazy(MIXTURE)),
                                   extra=(("unknown method", "methods",
                                           override({"methods": ("bogus",)})),
                                          ("mixture not OutputMixture", "mixture",
                                           override({"mixture": 3.0})))))
_OL = {"net": lazy(NET), "prototypes": lazy(PROTOS), "noise_cov": _NCOV}
add("output_law_check", Entry(call("output_law_check", **_OL, n_samples=60, n_test=30,
                                   n_permutations=10, n_exit_samples=30, seed=0),
                              arrays=("prototypes", "noise_cov"), cov=("noise_cov",),
                              extra=(("weights<0", "weights",
                                      override({"weights": np.array([1.5, -0.5])})),)))
add("output_mixture", Entry(call("output_mixture", **_OL), arrays=("prototypes", "noise_cov"),
                            cov=("noise_cov",),
                            extra=(("weights<0", "weights",
                                    override({"weights": np.array([1.5, -0.5])})),
                                   ("weights wrong length", "weights",
                                    override({"weights": np.array([1.0])})))))
add("region_affine_map", Entry(call("region_affine_map", net=lazy(NET), x=_NX), arrays=("x",)))
add("region_code", Entry(call("region_code", net=lazy(NET), x=_NX), arrays=("x",)))
add("region_statistics", Entry(call("region_statistics", net=lazy(NET), points=_NX),
                               arrays=("points",), few={("points",): 0}))
add("regions_in_slice", Entry(call("regions_in_slice", net=lazy(NET),
                                   centre=lazy(lambda: np.zeros(3)),
                                   u=lazy(lambda: np.array([1.0, 0, 0])),
                                   v=lazy(lambda: np.array([0, 1.0, 0])), resolution=8),
                              arrays=("centre", "u", "v"), array_variants=("nan", "inf", "empty"),
                              extra=(("u parallel v", "v",
                                      override({"v": np.array([1.0, 0, 0])})),)))
add("regions_on_segment", Entry(call("regions_on_segment", net=lazy(NET),
                                     start=lazy(lambda: np.zeros((1, 3))),
                                     end=lazy(lambda: np.ones((1, 3)))),
                                arrays=("start", "end"), pairs=(("start", "end"),),
                                positive=("resolution",)))
add("sample_output_law", Entry(call("sample_output_law", **_OL, n_samples=20, seed=0),
                               arrays=("prototypes", "noise_cov"), cov=("noise_cov",)))
add("trace_cpa", Entry(call("trace_cpa", net=lazy(NET)),
                       extra=(("net not a module", "net", override({"net": 3.0})),)))
add("two_sample_test", Entry(call("two_sample_test", x=lazy(lambda: X(20, 2)),
                                  y=lazy(lambda: X(25, 2, 1)), n_permutations=20, seed=0),
                             arrays=("x", "y"), few={("x", "y"): 1},
                             extra=(("y wrong dim", "y", override({"y": X(25, 3)})),)))

add("paired_test", Entry(call("paired_test", x=lazy(lambda: X(6, 1, 0)[:, 0]),
                              y=lazy(lambda: X(6, 1, 1)[:, 0])),
                         array_variants=("nan", "inf", "ndim", "empty"), arrays=("x", "y"),
                         pairs=(("x", "y"),), few={("x", "y"): 1}))
add("holm_adjust", Entry(call("holm_adjust", p_values=lazy(lambda: np.array([0.01, 0.2, 0.04]))),
                         arrays=("p_values",),
                         extra=(("p_values>1", "p_values", override({"p_values": [0.5, 1.5]})),)))

# --- train -----------------------------------------------------------------------------------
# every registered method's loss, built through the registry (keyed "SSLMethod.loss[<name>]")
for _name in api("method_names")():
    add(f"SSLMethod.loss[{_name}]", Entry(
        (lambda n=_name: (api("make_method")(n, dim_in=4, dim_out=3, hidden=(6,)).loss,
                          {"x_a": T(16, 4), "x_b": T(16, 4, 1)})),
        arrays=("x_a", "x_b"), pairs=(("x_a", "x_b"),),
        extra=(("x_a wrong dim", "x_a", override({"x_a": T(16, 3), "x_b": T(16, 3)})),)))
_NOT_MODULE = (("encoder not a module", "encoder", override({"encoder": 3.0})),)
for _cls, _kw in {"BYOL": {"dim_out": 3}, "ERBYOL": {"dim_out": 3}, "MINC": {"dim_out": 3},
                  "MMI": {}, "InfoNCE": {}, "ERGaussian": {"learn_sigma": True},
                  "EMATarget": {}}.items():
    add(_cls, Entry((lambda c=_cls, k=_kw: (api(c), {"encoder": ENC(), **k})),
                    extra=_NOT_MODULE))
TABLE["BYOL"].positive = ("predictor_hidden",)
for _cls in ("BYOL", "EMATarget"):
    TABLE[_cls].extra += (("base_momentum>1", "base_momentum",
                           override({"base_momentum": 1.5})),)
TABLE["MINC"].extra += (("moment_decay>1", "moment_decay", override({"moment_decay": 1.5})),)
TABLE["ERGaussian"].extra += (("sigma<0", "sigma", override({"sigma": -1.0})),)
add("ObjectiveMethod", Entry(
    lambda: (api("ObjectiveMethod"), {"encoder": ENC(), "name": "simclr",
                                      "objective": api("nt_xent_loss")}),
    no_options=("name",),
    extra=_NOT_MODULE + (("unknown option", "temperature", override({"temperature": 0.1})),)))
add("embed_samples", Entry(lambda: (api("embed_samples"), {"method": METHOD(), "process": PROC(),
                                                           "n": 8, "seed": 0}),
                           extra=(("process not a process", "process",
                                   override({"process": 3.0})),
                                  ("method not a method", "method", override({"method": 3.0})))))
add("embed_pairs", Entry(lambda: (api("embed_pairs"), {"method": METHOD(), "process": PROC(),
                                                       "n": 8, "seed": 0}),
                         extra=(("process not a process", "process",
                                 override({"process": 3.0})),)))
add("evaluate_identifiability",
    Entry(lambda: (api("evaluate_identifiability"), {"method": METHOD(), "process": PROC(),
                                                     "n_fit": 48, "n_eval": 48,
                                                     "n_kernel_fit": 24}),
          extra=(("n_kernel_fit>n_fit", "n_kernel_fit", override({"n_kernel_fit": 100})),)))
add("fit_and_evaluate",
    Entry(lambda: (api("fit_and_evaluate"), {"name": "vicreg", "process": PROC(),
                                             "train_cfg": CFG(), "seed_train": 0, "seed_eval": 1,
                                             "hidden": (6,), "n_fit": 48, "n_eval": 48,
                                             "n_kernel_fit": 24}),
          no_positive=("seed_train", "seed_eval"),
          extra=(("process not a process", "process", override({"process": 3.0})),)))
add("probe_accuracy",
    Entry(lambda: (api("probe_accuracy"), {"method": METHOD(), "process": PROC(), "n_fit": 60,
                                           "n_eval": 60, "n_classes": 2, "task_seed": 0,
                                           "seed": 0}),
          positive=("n_classes",), no_positive=("task_seed", "seed")))
add("gradient_variance", Entry(lambda: (api("gradient_variance"),
                                        {"method": METHOD(), "process": PROC(), "batch_size": 8,
                                         "n_batches": 2}),
                               extra=(("n_warmup<0", "n_warmup", override({"n_warmup": -1})),)))
add("gradient_variance_sweep", Entry(lambda: (api("gradient_variance_sweep"), {
    "base": METHOD(), "process": PROC(), "methods": {"a": ("vicreg", {}, 0)},
    "batch_sizes": [8], "reference": "a", "n_batches": 2, "hidden": (8,), "dim_out": 3}),
    no_options=("cos_key",),
    extra=(("reference not a method", "reference", override({"reference": "b"})),
           ("base not a method", "base", override({"base": 3.0})))))
add("mean_budget_curve", Entry(call("mean_budget_curve", curves=[
    [{"step": 1, "content": {"linear": 0.1, "kernel": 0.2}}]]), extra=(
    ("no curves", "curves", override({"curves": []})),
    ("checkpoints differ", "curves", override({"curves": [
        [{"step": 1, "content": {"linear": 0.1, "kernel": 0.2}}],
        [{"step": 2, "content": {"linear": 0.1, "kernel": 0.2}}]]})),)))
add("make_method", Entry(call("make_method", name="simclr", dim_in=4, dim_out=3, hidden=(8,)),
                         options=("name",),
                         extra=(("hidden=(0,)", "hidden", override({"hidden": (0,)})),
                                ("unknown kwarg", "bogus_kw", override({"bogus_kw": 1})))))
add("method_spec", Entry(call("method_spec", name="simclr"), options=("name",)))
add("representation_dim", Entry(call("representation_dim", name="simclr", process=lazy(PROC)),
                                options=("name",),
                                extra=(("process not a process", "process",
                                        override({"process": 3.0})),)))
add("er_in_geometry", Entry(call("er_in_geometry", process=lazy(PROC)),
                            extra=(("process not a process", "process",
                                    override({"process": 3.0})),)))
add("make_mlp_encoder", Entry(call("make_mlp_encoder", dim_in=4, dim_out=3, hidden=(6,)),
                              extra=(("hidden=(0,)", "hidden", override({"hidden": (0,)})),
                                     ("negative_slope=nan", "negative_slope",
                                      override({"negative_slope": math.nan})))))
add("Standardise", Entry(call("Standardise", mean=lazy(lambda: torch.zeros(3)),
                              std=lazy(lambda: torch.ones(3))),
                         extra=(("std with a 0", "std",
                                 override({"std": torch.tensor([1., 0., 1.])})),
                                ("mean nan", "mean",
                                 override({"mean": torch.tensor([0., math.nan, 0.])})),
                                ("mean 2-D", "mean", override({"mean": torch.zeros(1, 3)})),
                                ("shapes differ", "mean", override({"mean": torch.zeros(2)})))))
add("Whiten", Entry(call("Whiten", mean=lazy(lambda: torch.zeros(3)),
                         matrix=lazy(lambda: torch.eye(3))),
                    extra=(("singular matrix", "matrix",
                            override({"matrix": torch.zeros(3, 3)})),
                           ("matrix nan", "matrix",
                            override({"matrix": torch.full((3, 3), math.nan)})),
                           ("mean nan", "mean",
                            override({"mean": torch.tensor([0., math.nan, 0.])})),
                           ("shapes differ", "matrix", override({"matrix": torch.eye(2)})))))
add("infonce_options", Entry(call("infonce_options", process=lazy(PROC)),
                             extra=(("process not a process", "process",
                                     override({"process": 3.0})),)))
add("input_statistics", Entry(call("input_statistics", process=lazy(PROC), n=16, seed=0),
                              no_positive=("seed",),
                              extra=(("process not a process", "process",
                                      override({"process": 3.0})),
                                     ("whiten with fewer samples than dims", "n",
                                      override({"n": 3, "whiten": True})))))
add("init_linear_", Entry(lambda: (api("init_linear_"), {"module": ENC(), "seed": 0}),
                          no_positive=("seed",),
                          extra=(("module not a module", "module", override({"module": 3.0})),)))
add("paper_hidden", Entry(call("paper_hidden", dim_in=4)))
add("resolve_device", Entry(call("resolve_device", device="cpu"), options=("device",)))
add("train", Entry(lambda: (api("train"), {"method": METHOD(), "process": PROC(), "cfg": CFG()}),
                   extra=(("cfg steps=0", "steps", override({"cfg": CFG(steps=0)})),
                          ("cfg batch_size=0", "batch_size", override({"cfg": CFG(batch_size=0)})),
                          ("cfg lr=nan", "lr", override({"cfg": CFG(lr=math.nan)})),
                          ("cfg device bogus", "device", override({"cfg": CFG(device="bogus")})),
                          ("cfg not a TrainConfig", "cfg", override({"cfg": 3.0})),
                          ("process not a process", "process", override({"process": 3.0})))))

# --- models, Euclidean ER, image world, blocks ------------------------------------------------
for _f in ("resnet18", "resnet34", "resnet50"):
    add(_f, Entry(call(_f, num_classes=10, stem="cifar"), positive=("num_classes",)))
add("ResNet", Entry(call("ResNet", depth="resnet18", stem="cifar"), options=("depth", "stem"),
                    extra=(("in_channels=0", "in_channels", override({"in_channels": 0})),)))
add("Bottleneck", Entry(call("Bottleneck", cin=8, planes=4), positive=("cin", "planes", "stride")))
add("make_projector", Entry(call("make_projector", spec="16-8", in_dim=4),
                            positive=("in_dim",),
                            extra=(("spec bad", "spec", override({"spec": "16-x"})),
                                   ("spec empty", "spec", override({"spec": ""})))))
add("er_gaussian_loss", pair_entry("er_gaussian_loss"))
add("reconstruction_gaussian", pair_entry("reconstruction_gaussian"))
add("entropy_gaussian_kde", Entry(call("entropy_gaussian_kde", z=lazy(lambda: T())),
                                  arrays=("z",), few={("z",): 1}))
add("replicate_accuracy", Entry(call("replicate_accuracy", values=lazy(lambda: X(5, 1)[:, 0]),
                                     truth=0.0), arrays=("values",), few={("values",): 0},
                                extra=(("truth nan", "truth", override({"truth": np.nan})),
                                       ("se length", "se", override({"se": [0.1]})))))
add("effective_rank", Entry(call("effective_rank", z=lazy(lambda: X(20, 3))), arrays=("z",),
                            few={("z",): 0}))
add("mi_lower_bound_er_linear", Entry(
    call("mi_lower_bound_er_linear", x_fit=lazy(lambda: X(60, 2)),
         y_fit=lazy(lambda: X(60, 2, 1)), x=lazy(lambda: X(60, 2, 2)),
         y=lazy(lambda: X(60, 2, 3)), seed=0),
    arrays=("x_fit", "y_fit", "x", "y"), pairs=(("x_fit", "y_fit"), ("x", "y"))))
add("r2_identifiability_blocks", Entry(
    call("r2_identifiability_blocks", h_fit=lazy(lambda: X(40, 2)),
         h_eval=lazy(lambda: X(40, 2, 2)),
         targets=lazy(lambda: {"a": (X(40, 2, 1), X(40, 2, 3))}), method="kernel", seed=0),
    arrays=("h_fit", "h_eval"), positive=("cv",),
    extra=(("targets empty", "targets", override({"targets": {}})),
           ("z_fit nan", "z_fit", override({"targets": {"a": (np.full((40, 2), np.nan),
                                                                X(40, 2, 3))}})))))
add("ImageWorld", Entry(call("ImageWorld", seed=0), options=("image_size",),
                        extra=(("p_change>1", "p_change", override({"p_change": 1.5})),
                               ("content unknown", "content", override({"content": ("mass",)})))))
add("ImageWorld.sample_pairs", Entry(method(lambda: api("ImageWorld")(seed=0), "sample_pairs",
                                            n=4, seed=0), positive=("n",)))
add("ImageWorld.render", Entry(
    method(lambda: api("ImageWorld")(seed=0), "render",
           factors=lazy(lambda: api("ImageWorld")(seed=0).sample_factors(3, seed=0))),
    extra=(("factors nan", "factors", override({"factors": torch.full((3, 8), float("nan"))})),
           ("factors wrong width", "factors", override({"factors": torch.zeros(3, 2)})))))

# --- image training and evaluation -----------------------------------------------------------


def IMG_METHOD(name: str = "simclr"):
    torch.manual_seed(0)
    return api("make_image_method")(name, width=4, projector="8-8")


def IMAGES(n: int = 8, seed: int = 0):
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


_LAB8 = lazy(lambda: np.array([0, 1] * 4))
add("make_image_method", Entry(call("make_image_method", name="simclr", width=4, projector="8-8"),
                               options=("name", "arch", "stem"), positive=("width",)))
add("ImageMethod", Entry(lambda: (api("ImageMethod"), {"method": 3.0}),
                         extra=(("method not a method", "method", override({"method": 3.0})),)))
TABLE["ImageMethod"].build = lambda: (api("ImageMethod"), {"method": IMG_METHOD().method})
add("ImageEncoder", Entry(lambda: (api("ImageEncoder"), {"backbone": nn.Identity(),
                                                         "head": nn.Identity()}),
                          extra=(("backbone not a module", "backbone",
                                  override({"backbone": 3.0})),
                                 ("head not a module", "head", override({"head": 3.0})))))
add("init_image_method_", Entry(lambda: (api("init_image_method_"), {"method": IMG_METHOD(),
                                                                     "seed": 0}),
                                no_positive=("seed",),
                                extra=(("method not a method", "method",
                                        override({"method": 3.0})),)))
add("ImageTrainConfig", Entry(call("ImageTrainConfig", steps=2, batch_size=4),
                              options=("optimizer",),
                              extra=(("warmup>steps", "warmup_steps",
                                      override({"warmup_steps": 5})),)))
add("train_images", Entry(
    lambda: (api("train_images"), {"method": IMG_METHOD(), "seed": 0,
                                   "sampler": api("ImageWorld")(seed=0),
                                   "cfg": api("ImageTrainConfig")(steps=1, batch_size=4,
                                                                  device="cpu",
                                                                  progress=False)}),
    no_positive=("seed",),
    extra=(("cfg not a config", "cfg", override({"cfg": 3.0})),
           ("sampler not a sampler", "sampler", override({"sampler": 3.0})))))
add("embed_images", Entry(lambda: (api("embed_images"), {"method": IMG_METHOD(),
                                                         "images": IMAGES()}),
                          arrays=("images",), array_variants=("nan", "ndim", "empty"),
                          options=("features",)))
add("linear_probe", Entry(lambda: (api("linear_probe"), {
    "method": IMG_METHOD(), "train_images": IMAGES(), "train_labels": _LAB8(),
    "test_images": IMAGES(seed=1), "test_labels": _LAB8()}),
    arrays=("train_images",), array_variants=("nan", "ndim"),
    extra=(("train_labels nan", "train_labels",
            override({"train_labels": np.array([0.0, np.nan] * 4)})),)))
add("knn_monitor", Entry(lambda: (api("knn_monitor"), {
    "method": IMG_METHOD(), "train_images": IMAGES(), "train_labels": _LAB8(),
    "test_images": IMAGES(seed=1), "test_labels": _LAB8()}),
    arrays=("train_images",), array_variants=("nan", "ndim"),
    extra=(("train_labels negative", "train_labels",
            override({"train_labels": np.array([0, -1] * 4)})),)))
add("knn_predict", Entry(call("knn_predict", train_features=lazy(lambda: X(8, 3)),
                              train_labels=_LAB8, test_features=lazy(lambda: X(4, 3, 1))),
                         arrays=("train_features", "test_features"),
                         pairs=(("train_features", "train_labels"),)))
add("factor_targets", Entry(lambda: (api("factor_targets"), {
    "world": api("ImageWorld")(seed=0),
    "factors": api("ImageWorld")(seed=0).sample_factors(4, seed=0)}),
    extra=(("factors nan", "factors", override({"factors": torch.full((4, 8), float("nan"))})),
           ("world not a world", "world", override({"world": 3.0})))))
add("trend_status", Entry(call("trend_status", values=[0.5, 0.6, 0.61]),
                          extra=(("values nan", "values", override({"values": [0.5, np.nan]})),
                                 ("tol<0", "tol", override({"tol": -0.1})))))
add("plateau_status", Entry(call("plateau_status", steps=[1, 2, 4], values=[0.5, 0.6, 0.61]),
                            extra=(("values nan", "values",
                                    override({"values": [0.5, 0.6, np.nan]})),
                                   ("steps not increasing", "steps",
                                    override({"steps": [1, 4, 2]})),
                                   ("length mismatch", "steps", override({"steps": [1, 2]})),
                                   ("tol<0", "tol", override({"tol": -0.1})))))
add("log_checkpoints", Entry(call("log_checkpoints", steps=3000, n=4),
                             positive=("steps", "n")))
add("even_checkpoints", Entry(call("even_checkpoints", steps=200, n=3),
                              positive=("steps", "n")))
add("interval_means", Entry(call("interval_means", steps=[0, 1, 2, 3],
                                 values=[4.0, 2.0, 1.0, 1.0], bounds=[0, 2, 4]),
                            extra=(("values nan", "values",
                                    override({"values": [4.0, np.nan, 1.0, 1.0]})),
                                   ("length mismatch", "values", override({"values": [1.0]})),
                                   ("bounds not increasing", "bounds",
                                    override({"bounds": [2, 0]})))))
add("sample_images", Entry(call("sample_images", dataset="world", n=4, seed=0),
                           no_positive=("seed", "world_seed"),
                           extra=(("path missing", "dataset", override({"dataset": "cifar10:"})),
                                  ("not a string", "dataset", override({"dataset": 3.0})))))
add("train_with_checkpoints", Entry(
    lambda: (api("train_with_checkpoints"), {
        "method": IMG_METHOD(), "sampler": api("ImageWorld")(seed=0), "seed": 0,
        "cfg": api("ImageTrainConfig")(steps=2, batch_size=4, device="cpu", progress=False),
        "evaluate": lambda step, m: {}, "at": [2]}),
    no_positive=("seed",),
    extra=(("at beyond steps", "at", override({"at": [3]})),
           ("evaluate not callable", "evaluate", override({"evaluate": 3.0})),
           ("cfg not a config", "cfg", override({"cfg": 3.0})))))
add("param_groups", Entry(lambda: (api("param_groups"), {"model": nn.Linear(3, 2),
                                                         "weight_decay": 0.1}),
                          extra=(("model not a module", "model", override({"model": 3.0})),
                                 ("weight_decay<0", "weight_decay",
                                  override({"weight_decay": -1.0})))))
add("LARS", Entry(lambda: (api("LARS"), {"params": nn.Linear(3, 2).parameters(), "lr": 0.1}),
                  positive=("lr",), no_positive=("weight_decay", "momentum"),
                  extra=(("momentum>1", "momentum", override({"momentum": 1.5})),
                         ("weight_decay<0", "weight_decay", override({"weight_decay": -1.0})),
                         ("eta<=0", "eta", override({"eta": 0.0})))))
add("warmup_cosine", Entry(call("warmup_cosine", step=3, total=10, warmup=2, base_lr=0.1),
                           positive=("total", "base_lr"), no_positive=("warmup", "step"),
                           extra=(("step>total", "step", override({"step": 11})),
                                  ("step<0", "step", override({"step": -1})),
                                  ("warmup>total", "warmup", override({"warmup": 11})),
                                  ("final_lr<0", "final_lr", override({"final_lr": -1.0})))))

add("cpa_from_resnet", Entry(call("cpa_from_resnet",
                                  net=lazy(lambda: api("ResNet")("resnet18", width=2))),
                             extra=(("net not a module", "net", override({"net": 3.0})),)))
# --- normality tests --------------------------------------------------------------------------
for _f in ("henze_zirkler", "mardia", "dagostino_pearson"):
    add(_f, Entry(call(_f, x=lazy(lambda: X(40, 2))), arrays=("x",), few={("x",): 10},
                  extra=(("x rank 1", "x", override({"x": np.ones((40, 2))})),
                         ("alpha>1", "alpha", override({"alpha": 1.5})))))
for _f in ("normality_test", "normality_tests"):
    add(_f, Entry(call(_f, x=lazy(lambda: X(60, 3)), max_dim=2, seed=0), arrays=("x",),
                  few={("x",): 10}, positive=("max_dim",),
                  extra=(("x rank 1", "x", override({"x": np.ones((60, 3))})),
                         ("max_samples tiny", "max_samples", override({"max_samples": 3})))))
add("project_samples", Entry(call("project_samples", x=lazy(lambda: X(20, 4)), dim=2, seed=0),
                             arrays=("x",), few={("x",): 1}))
add("numerical_rank", Entry(call("numerical_rank", x=lazy(lambda: X(20, 3))), arrays=("x",),
                            few={("x",): 1}))
add("cauchy_combination", Entry(call("cauchy_combination", p_values=[0.2, 0.5]),
                                arrays=("p_values",),
                                extra=(("p_values > 1", "p_values",
                                        override({"p_values": [0.5, 1.5]})),)))
# --- study measurements moved into the library ----------------------------------------------
add("logdet_taylor_errors",
    Entry(call("logdet_taylor_errors", mats=lazy(lambda: {"m": SPD(3)}), max_order=3),
          positive=("max_order",),
          extra=(("mats empty", "mats", override({"mats": {}})),
                 ("mats NaN", "mats", override({"mats": {"m": np.full((2, 2), np.nan)}})),
                 ("mats NaN tensor", "mats",
                  override({"mats": {"m": torch.full((2, 2), math.nan, dtype=torch.float64)}})),
                 ("fixed_betas<0", "fixed_betas", override({"fixed_betas": (-1.0,)})))))
add("logdet_taylor_error_checks",
    Entry(call("logdet_taylor_error_checks",
               rows=[{"abs_error": [0.2, 0.1], "bound": [0.3, 0.2], "radius": 0.5}]),
          extra=(("rows missing field", "rows", override({"rows": [{"abs_error": [0.1]}]})),
                 ("rows length mismatch", "rows", override(
                     {"rows": [{"abs_error": [0.1], "bound": [0.1, 0.2], "radius": 0.5}]})),
                 ("rtol<0", "rtol", override({"rtol": -1.0})),
                 ("atol nan", "atol", override({"atol": math.nan})))))
add("mi_after_maps",
    Entry(call("mi_after_maps", x=lazy(lambda: X(40, 2)), y=lazy(lambda: X(40, 2, seed=1)),
               maps={"identity": lambda v: v, "exp": np.exp}, seed=0),
          arrays=("x", "y"), pairs=(("x", "y"),), few={("x", "y"): 3},
          extra=(("maps empty", "maps", override({"maps": {}})),
                 ("maps not callable", "maps", override({"maps": {"f": 3.0}})))))
add("sample_correlated_pairs",
    Entry(call("sample_correlated_pairs", n=20, dim=2, rho=0.5, seed=0),
          extra=(("rho=1", "rho", override({"rho": 1.0})),
                 ("rho nan", "rho", override({"rho": math.nan})),
                 ("rho not a number", "rho", override({"rho": "high"})))))
add("fit_sweep",
    Entry(lambda: (api("fit_sweep"), {"name": "mmi", "process": PROC(), "train_cfg": CFG(),
                                      "runs": {"exact": {"logdet": "exact"}}, "seeds": [0],
                                      "n_pairs": 20, "dim_out": 2, "hidden": (6,), "n_fit": 48,
                                      "n_eval": 48, "n_kernel_fit": 24}),
          positive=("n_pairs",),
          extra=(("process not a process", "process", override({"process": 3.0})),
                 ("runs empty", "runs", override({"runs": {}, "seeds": []})),
                 ("seeds wrong length", "seeds", override({"seeds": [0, 1]})))))
add("mmi_options", Entry(call("mmi_options", label="taylor4_frobenius"),
                         extra=(("order 0", "label", override({"label": "taylor0_trace"})),
                                ("beta<0", "label", override({"label": "taylor4_-1.0"})),
                                ("label not a string", "label", override({"label": 4})))))
add("output_law_sweep",
    Entry(call("output_law_sweep", net=lazy(NET), prototypes=lazy(PROTOS), noise_sds=[0.01, 0.1],
               n_samples=60, n_test=30, n_permutations=10, n_exit_samples=30, seed=0),
          arrays=("prototypes",),
          extra=(("noise_sds empty", "noise_sds", override({"noise_sds": []})),
                 ("noise_sds<0", "noise_sds", override({"noise_sds": [0.1, -1.0]})),
                 ("noise_sds nan", "noise_sds", override({"noise_sds": [math.nan]})))))
add("region_statistics_grid",
    Entry(call("region_statistics_grid", prototypes=lazy(lambda: X(4, 3)), dim_out=2,
               widths=(4,), depths=(1,), resolution=8, seed=0),
          arrays=("prototypes",), few={("prototypes",): 2},
          extra=(("widths empty", "widths", override({"widths": ()})),
                 ("depths 0", "depths", override({"depths": (0,)})))))
add("fit_prototype_classifier",
    Entry(call("fit_prototype_classifier", net=lazy(NET), head=lazy(lambda: nn.Linear(2, 2)),
               prototypes=lazy(PROTOS), steps=2, seed=0),
          arrays=("prototypes",), few={("prototypes",): 1}, positive=("noise_sd", "copies"),
          extra=(("head not a module", "head", override({"head": 3.0})),
                 ("net not a module", "net", override({"net": 3.0})))))
add("mi_estimates_on_task",
    Entry(call("mi_estimates_on_task",
               task=lazy(lambda: importlib.import_module("mitheory.info.tasks").TASKS[
                   "2v2-normal-dense"]()),
               estimators={"plugin": lambda x, y, xt, yt, *, entropy_y, seed:
                           api("mi_gaussian_plugin")(x, y)},
               n_samples=40, n_repeats=2, seed=0),
          positive=("n_repeats",),
          extra=(("estimators empty", "estimators", override({"estimators": {}})),
                 ("estimators not callable", "estimators",
                  override({"estimators": {"a": 3.0}})))))
add("replicate_mean_se", Entry(call("replicate_mean_se", sd=0.2, mc_se=0.1, n_replicates=3),
                               positive=("n_replicates",),
                               extra=(("sd<0", "sd", override({"sd": -0.1})),
                                      ("mc_se<0", "mc_se", override({"mc_se": -0.1})))))
add("estimate_accuracy",
    Entry(call("estimate_accuracy", truth=0.0, values=lazy(
        lambda: [api("mi_gaussian_plugin")(X(), X(seed=s)) for s in (1, 2)])),
          extra=(("values empty", "values", override({"values": []})),
                 ("values not InfoValue", "values", override({"values": [1.0]})),
                 ("truth nan", "truth", override({"truth": math.nan})))))
# --- matrices and mixtures as objectives, and the small optimisation loop ---------------------
_TC_COV = lazy(lambda: torch.as_tensor(SPD()))
add("total_correlation_gaussian_torch", Entry(
    call("total_correlation_gaussian_torch", cov=_TC_COV), arrays=("cov",),
    array_variants=("nan", "inf", "empty"),  # an added leading dim is a valid batch
    extra=(("cov not a tensor", "cov", override({"cov": SPD()})),
           ("zero variance", "cov", override({"cov": torch.zeros(3, 3, dtype=torch.float64)})),
           ("non-square", "cov", override({"cov": torch.ones(3, 2, dtype=torch.float64)})))))
add("isotropic_mixture_log_density_torch", Entry(
    call("isotropic_mixture_log_density_torch", x=lazy(lambda: T(16, 2)),
         means=lazy(lambda: T(3, 2, 1)), var=0.5),
    arrays=("x", "means"), positive=("var",),
    extra=(("means columns differ", "means", override({"means": T(3, 3, 1)})),
           ("var a vector", "var", override({"var": torch.ones(2)})))))
add("off_diagonal_ratio", Entry(
    call("off_diagonal_ratio", cov=lazy(SPD)), arrays=("cov",),
    array_variants=("nan", "inf", "empty"),  # an added leading dim is a valid batch
    extra=(("all-zero matrix", "cov", override({"cov": np.zeros((3, 3))})),
           ("non-square", "cov", override({"cov": np.ones((3, 2))})))))


def _minimise_call():
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    return api("minimise"), {"loss": lambda: ((w - 1.0) ** 2).sum(), "params": [w],
                             "steps": 3, "lr": 0.1}


add("minimise", Entry(_minimise_call, positive=("record_every",),
                      extra=(("params empty", "params", override({"params": []})),
                             ("params without grad", "params",
                              override({"params": [torch.zeros(2)]})),
                             ("loss not callable", "loss", override({"loss": 3.0})),
                             ("record with lbfgs", "record",
                              override({"optimiser": "lbfgs",
                                        "record": lambda s, v: {"step": s}})))))
add("make_and_train", Entry(
    lambda: (api("make_and_train"), {"name": "vicreg", "process": PROC(), "train_cfg": CFG(),
                                     "seed": 0, "hidden": (6,)}),
    options=("name",), no_positive=("seed",),
    extra=(("process not a process", "process", override({"process": 3.0})),
           ("cfg not a TrainConfig", "cfg", override({"train_cfg": 3.0})))))
add("fit_row", Entry(
    lambda: (api("fit_row"), {"name": "vicreg", "process": PROC(), "train_cfg": CFG(),
                              "seed": 0, "n_eval": 48, "n_kernel_fit": 24, "hidden": (6,)}),
    options=("name",), no_positive=("seed",),
    extra=(("process not a process", "process", override({"process": 3.0})),)))
add("relative_variance_ratio", Entry(
    call("relative_variance_ratio", rows=[{"batch_size": 8, "label": "a", "relative_variance": 1.0},
                                          {"batch_size": 8, "label": "r",
                                           "relative_variance": 2.0}], label="a", reference="r"),
    options=("label", "reference")))
add("er_bound_of_method", Entry(
    lambda: (api("er_bound_of_method"), {"method": METHOD("vicreg"), "process": PROC(),
                                         "n_fit": 60, "n_eval": 40, "seed_fit": 0,
                                         "seed_eval": 1, "seed": 2}),
    no_positive=("seed_fit", "seed_eval", "seed"),
    extra=(("process not a process", "process", override({"process": 3.0})),
           ("method not a method", "method", override({"method": 3.0})))))
# --- study measurements: representation entropies, reference comparisons, image schedules --
add("representation_entropies", Entry(call("representation_entropies", z=lazy(lambda: X(40, 3))),
                                      arrays=("z",), few={("z",): 1},
                                      positive=("kernel_sigma", "knn_k"),
                                      extra=(("unknown footing", "footings",
                                              override({"footings": ("cube",)})),)))
_CURVES = lazy(lambda: {"a": {"q": X(3, 2)}, "b": {"q": X(3, 2, 1)}})
add("paired_reference_tests", Entry(call("paired_reference_tests", curves=_CURVES,
                                         reference="a", steps=[1, 2]),
                                    extra=(("reference not a method", "reference",
                                            override({"reference": "c"})),
                                           ("steps not increasing", "steps",
                                            override({"steps": [2, 1]})),
                                           ("curves inf", "curves", override(
                                               {"curves": {"a": {"q": np.full((3, 2), np.inf)},
                                                           "b": {"q": X(3, 2)}}})),
                                           ("alpha>1", "alpha", override({"alpha": 1.5})))))
_TESTS = lazy(lambda: api("paired_reference_tests")(
    {"a": {"q": X(3, 2)}, "b": {"q": X(3, 2, 1)}}, "a", [1, 2]))
add("family_vote", Entry(call("family_vote", tests=_TESTS, families={"f": ("q",)}),
                         extra=(("families empty", "families", override({"families": {}})),
                                ("family of an unknown quantity", "families",
                                 override({"families": {"f": ("r",)}})),
                                ("tests empty", "tests", override({"tests": []})))))
add("checkpoint_mean_se", Entry(call("checkpoint_mean_se", curves=lazy(lambda: X(3, 2))),
                                arrays=("curves",), array_variants=("inf", "ndim", "empty")))
add("relative_trend_status", Entry(call("relative_trend_status", values=[2.0, 1.0, 0.99]),
                                   extra=(("values nan", "values",
                                           override({"values": [1.0, np.nan]})),
                                          ("rel_tol<0", "rel_tol", override({"rel_tol": -0.1})))))
add("interval_losses", Entry(call("interval_losses", logs=[[(0, 2.0), (1, 1.0)]], bounds=[0, 2]),
                             extra=(("logs empty", "logs", override({"logs": []})),
                                    ("loss nan", "logs", override({"logs": [[(0, np.nan)]]})),
                                    ("bounds not increasing", "bounds",
                                     override({"bounds": [2, 0]})))))
add("held_out_source", Entry(call("held_out_source", dataset="imageworld", n_held_out=4,
                                  batch_size=4, augment="", seed=0),
                             positive=("n_held_out",), no_positive=("seed",),
                             extra=(("no augment for a dataset", "augment",
                                     override({"dataset": "cifar10:/x"})),)))
add("train_on_schedule", Entry(
    lambda: (api("train_on_schedule"), {
        "method": IMG_METHOD(), "sampler": api("ImageWorld")(seed=0), "seed": 0,
        "evaluate": lambda step, m: {}, "progress": False,
        "schedule": __import__("types").SimpleNamespace(steps=2, n_checkpoints=1, batch_size=4,
                                                        lr=1e-3, device="cpu")}),
    no_positive=("seed",),
    extra=(("schedule lacks fields", "schedule", override({"schedule": 3.0})),
           ("evaluate not callable", "evaluate", override({"evaluate": 3.0})))))
# --- noise-scale measurements, checkpoint monitors and trends ---------------------------------
_LIN = lazy(lambda: api("trace_cpa")(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)).double()))
add("pairwise_distances_vs_noise", Entry(call("pairwise_distances_vs_noise",
                                              x=lazy(lambda: X(6, 4)), noise_scales=[0.1]),
                                         arrays=("x",), array_variants=("nan", "inf"),
                                         extra=(("one image", "x", override({"x": X(1, 4)})),
                                                ("scale 0", "noise_scales",
                                                 override({"noise_scales": [0.0]})))))
add("largest_passing_scale", Entry(call("largest_passing_scale", scales=[1.0, 2.0],
                                        pass_fraction=[1.0, 0.5], min_pass=0.75),
                                   arrays=("pass_fraction",), array_variants=("nan", "ndim"),
                                   extra=(("scales descending", "scales",
                                           override({"scales": [2.0, 1.0]})),
                                          ("unequal lengths", "scales",
                                           override({"scales": [1.0]})))))


def _noise_response_call():
    net = _LIN()
    return api("noise_response"), {
        "embed": lambda x: net(x.double()).numpy(), "net": net,
        "prototypes": T(2, 4).reshape(2, 1, 2, 2), "noise_scales": [0.1], "n_noise": 20,
        "n_exit": 2, "tests": ("mardia",), "test_dim": 2, "seed": 0}


add("noise_response", Entry(
    _noise_response_call, no_positive=("seed",), no_options=("tests",),
    extra=(("scale<0", "noise_scales", override({"noise_scales": [-0.1]})),
           ("embed not callable", "embed", override({"embed": 3.0})),
           ("seed not ints", "seed", override({"seed": "a"})))))
add("exit_probability_by_scale", Entry(
    lambda: (api("exit_probability_by_scale"), {
        "net": _LIN(), "prototypes": T(2, 4).reshape(2, 1, 2, 2), "noise_scales": [0.1],
        "n_samples": 2, "seed": 0}),
    no_positive=("seed",),
    extra=(("scale<0", "noise_scales", override({"noise_scales": [-0.1]})),
           ("seed not ints", "seed", override({"seed": "a"})))))
add("knn_checkpoint_monitor", Entry(call("knn_checkpoint_monitor",
                                         images=lazy(lambda: T(8, 12).reshape(8, 3, 2, 2)),
                                         labels=[0, 1] * 4),
                                    extra=(("labels short", "labels",
                                            override({"labels": [0, 1]})),)))
add("add_interval_losses", Entry(call("add_interval_losses", history=lazy(lambda: [{"step": 2}]),
                                      losses=[(0, 2.0), (1, 1.0)]),
                                 extra=(("history empty", "history", override({"history": []})),
                                        ("loss nan", "losses",
                                         override({"losses": [(0, np.nan), (1, 1.0)]})))))
add("checkpoint_trends", Entry(call("checkpoint_trends",
                                    history=lazy(lambda: [{"step": 1, "a": 0.1},
                                                          {"step": 2, "a": 0.2}]),
                                    losses=[(0, 2.0), (1, 1.0)], tols={"a": 0.1}),
                               extra=(("tols of a missing key", "tols",
                                       override({"tols": {"b": 0.1}})),
                                      ("rel_tol<0", "rel_tol", override({"rel_tol": -1.0})))))
add("stratified_prefix", Entry(call("stratified_prefix", labels=[0, 1, 0, 1], n_classes=2,
                                    per_class=1),
                               extra=(("class short", "per_class", override({"per_class": 3})),)))
_YP, _YT = [0, 1] * 10, [0, 1] * 5
add("probe_gaps_and_bounds", Entry(
    call("probe_gaps_and_bounds", h_pool=lazy(lambda: X(20, 2)), y_pool=_YP,
         h_test=lazy(lambda: X(10, 2, 1)), y_test=_YT, h_view_a=lazy(lambda: X(8, 2, 2)),
         h_view_b=lazy(lambda: X(8, 2, 3)), n_classes=2, label_budgets=[3], n_mc=2, seed=0),
    arrays=("h_pool", "h_test"), array_variants=("nan", "ndim"), no_positive=("seed",),
    extra=(("budgets empty", "label_budgets", override({"label_budgets": []})),
           ("seed not ints", "seed", override({"seed": "a"})))))
add("correlations_with", Entry(call("correlations_with", xs=lazy(lambda: {"a": X(20, 1)[:, 0]}),
                                    y=lazy(lambda: X(20, 1, 1)[:, 0]), n_boot=20, seed=0),
                               no_positive=("seed",),
                               extra=(("xs empty", "xs", override({"xs": {}})),)))
add("labelled_probe_data", Entry(call("labelled_probe_data", dataset="imageworld", n_pool=4,
                                      n_test=2, n_unlabelled=2, batch_size=2, augment="vicreg",
                                      seed=0),
                                 positive=("n_pool", "n_unlabelled"), no_positive=("seed",),
                                 no_options=("augment",)))
# --- study measurements: reference comparisons in one call, entropy monitors, run curves --
add("compare_with_reference", Entry(call("compare_with_reference", curves=_CURVES,
                                         reference="a", steps=[1, 2], families={"f": ("q",)}),
                                    extra=(("rel_tol<0", "rel_tol", override({"rel_tol": -0.1})),
                                           ("families empty", "families",
                                            override({"families": {}})))))
add("family_vote_criterion", Entry(call("family_vote_criterion", reference="a",
                                        methods=["a", "b"], families={"f": ("q",)}, n_trials=3,
                                        alpha=0.05),
                                   no_options=("on",),
                                   extra=(("methods only the reference", "methods",
                                           override({"methods": ["a"]})),
                                          ("families empty", "families",
                                           override({"families": {}})),
                                          ("n_trials 1", "n_trials", override({"n_trials": 1})))))
add("family_vote_table", Entry(call("family_vote_table", per_opponent=lazy(
    lambda: api("family_vote")(_TESTS(), {"f": ("q",)})["per_opponent"])),
                               extra=(("per_opponent empty", "per_opponent",
                                       override({"per_opponent": {}})),)))
add("representation_entropy_ingredients", Entry(call("representation_entropy_ingredients"),
                                                positive=("knn_k",)))
add("entropy_monitor_ingredients", Entry(call("entropy_monitor_ingredients"),
                                         positive=("knn_k",)))
add("entropy_checkpoint_monitor", Entry(call("entropy_checkpoint_monitor",
                                             images=lazy(lambda: T(8, 12).reshape(8, 3, 2, 2))),
                                        positive=("kernel_sigma", "knn_k"),
                                        extra=(("one image", "images", override(
                                            {"images": T(1, 12).reshape(1, 3, 2, 2)})),)))
_RUNS = [{"method": "a", "trial": 0, "history": [{"k": {"q": 1.0}}, {"k": {"q": 2.0}}],
          "train": {"losses": [(0, 2.0), (1, 1.0)]}}]
add("history_curves", Entry(call("history_curves", runs=_RUNS, key="k", quantities=["q"]),
                            extra=(("runs empty", "runs", override({"runs": []})),
                                   ("quantity missing", "quantities",
                                    override({"quantities": ["r"]})))))
add("interval_loss_trends", Entry(call("interval_loss_trends", runs=_RUNS, bounds=[0, 1, 2]),
                                  extra=(("runs empty", "runs", override({"runs": []})),
                                         ("rel_tol<0", "rel_tol", override({"rel_tol": -1.0})))))
_SWEEP = [{"s": 0.1, "pass_hz": 1.0, "exit": [0.0], "tests": [{"hz": {"p_value": 0.5}}]}]
add("pool_noise_sweeps", Entry(call("pool_noise_sweeps", sweeps=[_SWEEP], test="hz",
                                    min_pass=0.5), no_options=("test",),
                               extra=(("sweeps empty", "sweeps", override({"sweeps": []})),
                                      ("unknown test", "test", override({"test": "x"})))))
add("noise_response_curves", Entry(call("noise_response_curves", rows=_SWEEP, test="hz"),
                                   no_options=("test",),
                                   extra=(("rows empty", "rows", override({"rows": []})),
                                          ("unknown test", "test", override({"test": "x"})))))
add("image_training_source", Entry(call("image_training_source", source="world", batch_size=4,
                                        seed=0), no_positive=("seed",)))
add("raw_image_distances", Entry(call("raw_image_distances", datasets=["digits"], n=4,
                                      noise_scales=[0.1], seed=0), no_positive=("seed",),
                                 extra=(("datasets empty", "datasets",
                                         override({"datasets": []})),)))
_PTS = [{"gap": g, "bounds": {"s": {"gap_bound": g + 1 + g * g}, "t": {"gap_bound": 2 - g}}}
        for g in np.linspace(0, 1, 8)]
add("bounds_vs_gap", Entry(call("bounds_vs_gap", points=_PTS, bounds=["s", "t"], reference="s",
                                n_boot=20, seed=0), no_positive=("seed",),
                           no_options=("reference",),
                           extra=(("one bound", "bounds", override({"bounds": ["s"]})),
                                  ("unknown reference", "reference",
                                   override({"reference": "x"})),
                                  ("points lack a bound", "points",
                                   override({"bounds": ["s", "u"]})))))
SKIP: dict[str, str] = {
    "IMAGE_SPECS": "constant tuple of dataset forms",
    "BOX_CONDITIONALS": "constant tuple of option names",
    "MU_NORM_TOL": "constant tolerance",
    "PLATEAU_TOL": "constant tolerance of the plateau rule",
    "PROCESS_NAMES": "constant tuple of option names",
    "LatentProcess": "base class of the processes; its methods are tested on subclasses",
    "ViewBatch": "dataclass of tensors returned by the processes",
    "tasks": "submodule, walked on its own",
    "gather_with_grad": "identity outside torch.distributed; no argument to validate",
    "rank": "no arguments",
    "world_size": "no arguments",
    "R2_METHODS": "constant tuple of option names",
    "TAYLOR_RULES": "constant tuple of option names",
    "CORRELATION_METHODS": "constant tuple of option names",
    "Correlation": "result dataclass",
    "GeneralizationBound": "result dataclass",
    "LinearProbe": "fitted-probe dataclass built by fit_linear_probe (walked); its methods "
                   "check their input through the bounds that call them",
    "DEFAULT_SIGMAS": "constant grid of posterior scales",
    "Abs": "parameter-free elementwise activation",
    "BoundaryDistance": "result dataclass",
    "CPANetwork": "built by trace_cpa (tested); its __call__ is tested",
    "ExitProbability": "result dataclass",
    "ExitProbabilityMC": "result dataclass",
    "NotCPAError": "exception class",
    "OutputLawCheck": "result dataclass",
    "OutputMixture": "result dataclass built by output_mixture (tested); sample is tested",
    "RegionMap": "result dataclass",
    "SegmentRegions": "result dataclass",
    "SliceRegions": "result dataclass",
    "TwoSampleTest": "result dataclass",
    "NormalityTest": "result dataclass",
    "NORMALITY_METHODS": "constant tuple of option names",
    "PairedTest": "result dataclass",
    "VICREG_ESTIMATORS": "constant tuple of option names",
    "DEFAULT_SIGMA": "constant (the Euclidean ER's default bandwidth)",
    "FACTOR_NAMES": "constant tuple of factor names",
    "SHAPE_NAMES": "constant tuple of shape names",
    "CONCEPTS": "constant tuple of concept names",
    "MethodSpec": "frozen record built by register_method",
    "FitResult": "result dataclass",
    "SphereNorm": "parameter-free normalisation layer",
    "TrainConfig": "plain dataclass of settings, validated by train() (tested)",
    "TrainResult": "result dataclass",
    "method_names": "no arguments",
    "registry_table": "no arguments",
    "register_method": "a valid call mutates the global method registry",
    "register_objective": "a valid call mutates the global method registry",
    "CIRCULAR_FACTORS": "constant dict of the image world's circular factors and periods",
    "FactorSplit": "plain dataclass of tensors (checked where it is used)",
    "save_checkpoint": "writes a file: tested by the resume tests of the image loop",
    "load_checkpoint": "reads a file: tested by the resume tests of the image loop",
    "image_identifiability": "an evaluation of a trained method on a world; its parts "
                             "(embed_images, factor_targets) are walked here",
    "identifiability_summary": "summarises the dict image_identifiability returns",
    "Task": "Protocol",
    "TASKS": "constant dict of ready-made tasks",
    "asinh": "elementwise numpy transform (NaN in, NaN out is the numpy contract)",
    "cube": "elementwise numpy transform (NaN in, NaN out is the numpy contract)",
    "half_cube": "elementwise numpy transform (NaN in, NaN out is the numpy contract)",
    "normal_cdf": "elementwise numpy transform (NaN in, NaN out is the numpy contract)",
    "wiggly_x": "elementwise numpy transform (NaN in, NaN out is the numpy contract)",
    "wiggly_y": "elementwise numpy transform (NaN in, NaN out is the numpy contract)",
    "DISTANCE_QUANTILES": "constant tuple of quantile levels",
}

# ---------------------------------------------------------------------------------------------
# deriving the cases
# ---------------------------------------------------------------------------------------------

_TORCH = torch.Tensor


def _set_first(v, value):
    if isinstance(v, _TORCH):
        v = v.clone().float() if not v.is_floating_point() else v.clone()
        v.view(-1)[0] = value
        return v
    a = np.array(v, dtype=float, copy=True)
    a.flat[0] = value
    return a


def _add_dim(v):
    return v[None] if isinstance(v, _TORCH) else np.asarray(v)[None]


def _rows(v, n):
    return v[:n] if isinstance(v, _TORCH) else np.asarray(v)[:n]


def _non_pd(v):
    if isinstance(v, _TORCH):
        v = v.clone()
    else:
        v = np.array(v, dtype=float, copy=True)
    v[..., 0, 0] = -1.0
    return v


def _set(arg, f):
    return lambda kw: {**kw, arg: f(kw[arg])}


def _signature_params(fn) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return {}


_DERIVED: dict[str, list[tuple[str, str, Any]]] = {}


def derive(name: str, entry: Entry) -> list[tuple[str, str, Any]]:
    """``(label, arg, transform)`` for every bad variant of one entry (computed once)."""
    if name not in _DERIVED:
        _DERIVED[name] = _derive(entry)
    return _DERIVED[name]


def _derive(entry: Entry) -> list[tuple[str, str, Any]]:
    fn, kw = entry.build()
    params = _signature_params(fn)
    cases: list[tuple[str, str, Any]] = []
    for a in entry.arrays:
        for var in entry.array_variants:
            f = {"nan": lambda v: _set_first(v, math.nan),
                 "inf": lambda v: _set_first(v, math.inf),
                 "ndim": _add_dim, "empty": lambda v: _rows(v, 0)}[var]
            cases.append((f"{a} {var}", a, _set(a, f)))
    for a, b in entry.pairs:
        cases.append((f"{a}/{b} mismatched samples", b,
                      _set(b, lambda v: _rows(v, len(v) - 1))))
    for args, n in entry.few.items():
        def few(kw, args=args, n=n):
            return {**kw, **{a: _rows(kw[a], n) for a in args}}
        cases.append((f"{'/'.join(args)} too few ({n})", args[0], few))
    for a in entry.cov:
        cases.append((f"{a} not positive definite", a, _set(a, _non_pd)))
    # non-positive scales and counts
    pos = set(entry.positive)
    for p, par in params.items():
        val = kw.get(p, par.default)
        if p in POSITIVE_NAMES and p not in entry.no_positive and not isinstance(val, bool) \
                and isinstance(val, (int, float)):
            pos.add(p)
    for p in sorted(pos):
        val = kw.get(p, params[p].default if p in params else 1.0)
        bad = (0, -1) if isinstance(val, (int, np.integer)) and not isinstance(val, bool) \
            else (0.0, -1.0, math.nan)
        for b in bad:
            cases.append((f"{p}={b}", p, lambda kw, p=p, b=b: {**kw, p: b}))
    # unknown options: every string-valued parameter, plus device
    opts = set(entry.options)
    for p, par in params.items():
        val = kw.get(p, par.default)
        if (isinstance(val, str) or p == "device") and p not in entry.no_options:
            opts.add(p)
    for p in sorted(opts):
        cases.append((f"{p} unknown option", p, lambda kw, p=p: {**kw, p: "bogus_option"}))
    cases.extend(entry.extra)
    return cases


#: (name, label) -> reason for cases marked xfail(strict=False); none are expected today
XFAIL: dict[tuple[str, str], str] = {}


def _cases():
    out = []
    for name in sorted(TABLE):
        out.append(pytest.param(name, "valid", id=f"{name}[valid]"))
        for label, _arg, _f in derive(name, TABLE[name]):
            marks = []
            if (name, label) in XFAIL:
                marks.append(pytest.mark.xfail(strict=False, reason=XFAIL[(name, label)]))
            out.append(pytest.param(name, label, id=f"{name}[{label}]", marks=marks))
    return out


CASES = _cases()
N_CASES = len(CASES)


def _lookup(name: str, label: str):
    entry = TABLE[name]
    if label == "valid":
        return entry, None, None
    for lab, arg, f in derive(name, entry):
        if lab == label:
            return entry, arg, f
    raise KeyError(label)


def _finite_result(out) -> None:
    """Fail on a NaN anywhere in a (nested) numeric result of a valid call."""
    if isinstance(out, _TORCH):
        assert bool(torch.isfinite(out.detach()).all()), "valid call returned a non-finite tensor"
    elif isinstance(out, (float, np.floating)):
        assert math.isfinite(out), "valid call returned a non-finite number"
    elif isinstance(out, np.ndarray) and out.dtype.kind == "f":
        assert np.all(np.isfinite(out)), "valid call returned a non-finite array"


@pytest.mark.parametrize(("name", "label"), CASES)
def test_bad_input(name, label):
    entry, arg, transform = _lookup(name, label)
    fn, kw = entry.build()
    if label == "valid":
        _finite_result(fn(**kw))
        return
    kw = transform(kw)
    try:
        out = fn(**kw)
    except (ValueError, TypeError) as exc:
        assert arg in str(exc), f"message does not name {arg!r}: {exc}"
    else:
        pytest.fail(f"{name}({label}) returned {type(out).__name__} instead of raising")


def test_table_covers_public_api():
    names = set(PUBLIC)
    bases = {k.split(".")[0] for k in TABLE}
    missing = sorted(names - bases - set(SKIP))
    assert not missing, f"public names with neither a table entry nor a skip reason: {missing}"
    stale = sorted((bases | set(SKIP)) - names)
    assert not stale, f"table/skip names no longer public: {stale}"
    assert all(isinstance(r, str) and r for r in SKIP.values())


def test_case_count():
    print(f"\n{N_CASES} bad-input cases over {len(TABLE)} table entries, {len(SKIP)} skipped")
    assert N_CASES >= 1500


def test_two_sample_mmd_identical_samples_is_finite():
    """MMD on identical samples: statistic 0 (not NaN) and p-value 1."""
    if _home("two_sample_test") != "mitheory.stats":
        pytest.skip("two_sample_test not yet in mitheory.stats on this branch")
    x = X(20, 2)
    res = api("two_sample_test")(x, x.copy(), statistic="mmd", n_permutations=20, seed=0)
    assert math.isfinite(res.statistic) and res.p_value == pytest.approx(1.0)
