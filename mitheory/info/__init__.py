"""Information measures: exact closed forms, mixture bounds, kNN and second-order estimators.

Every function returns an ``InfoValue`` (numpy/float64) or a ``torch.Tensor`` (``*_torch``) and
says in its docstring whether it is exact, an estimate, or a lower/upper bound, of what.
``mitheory.info.tasks`` holds distributions with known mutual information.
"""
# Exact closed forms
from mitheory.info._gaussian import entropy_affine, entropy_gaussian, mi_gaussian, mi_gaussian_cca
from mitheory.info._sphere import entropy_uniform_sphere, entropy_vmf

# Gaussian mixtures: Monte Carlo and bounds
from mitheory.info._mixture import entropy_mixture_bounds, entropy_mixture_mc, mi_mixture_mc

# k-nearest-neighbour estimators
from mitheory.info._knn import entropy_knn, mi_ksg

# Second-order (covariance / log-det) estimators, numpy and differentiable torch
from mitheory.info._second_order import (entropy_gaussian_plugin, logdet_entropy,
                                         logdet_entropy_torch, mi_gaussian_plugin, mi_logdet,
                                         pairwise_entropy_torch)

# Variational lower bounds (trainable critics / decoders)
from mitheory.info._variational import (ConcatCritic, SeparableCritic, VariationalMIEstimator,
                                        dv_lower_bound, infonce_lower_bound, mine_surrogate_loss,
                                        nwj_lower_bound)
# The ER bound (entropy + reconstruction) and its decoders
from mitheory.info._er_bound import (ERBoundEstimator, GaussianDecoder, VMFDecoder,
                                     er_lower_bound, mi_lower_bound_er)
from mitheory.info._linear_decoder import mi_lower_bound_er_linear
# invariance under invertible maps, as estimators see it
from mitheory.info._invariance import mi_after_maps
# estimators on replicate draws of a task with known MI
from mitheory.info._task_estimates import mi_estimates_on_task
# Differentiable Gaussian quantities objectives are built from
from mitheory.info._gaussian_torch import (isotropic_mixture_log_density_torch,
                                           total_correlation_gaussian_torch)
from mitheory.info._representation import (representation_entropies,
                                            representation_entropy_ingredients)

from mitheory.info import tasks  # noqa: E402  (public submodule)

__all__ = [
    # _gaussian
    "entropy_gaussian",
    "mi_gaussian",
    "mi_gaussian_cca",
    "entropy_affine",
    # _sphere
    "entropy_uniform_sphere",
    "entropy_vmf",
    # _mixture
    "entropy_mixture_mc",
    "entropy_mixture_bounds",
    "mi_mixture_mc",
    # _knn
    "mi_ksg",
    "entropy_knn",
    # _second_order
    "entropy_gaussian_plugin",
    "mi_gaussian_plugin",
    "logdet_entropy",
    "mi_logdet",
    "logdet_entropy_torch",
    "pairwise_entropy_torch",
    # _variational
    "infonce_lower_bound",
    "nwj_lower_bound",
    "dv_lower_bound",
    "mine_surrogate_loss",
    "er_lower_bound",
    "mi_lower_bound_er",
    "SeparableCritic",
    "ConcatCritic",
    "GaussianDecoder",
    "VMFDecoder",
    "VariationalMIEstimator",
    "ERBoundEstimator",
    # submodule
    "tasks",
    # _linear_decoder
    "mi_lower_bound_er_linear",
    # _invariance
    "mi_after_maps",
    # _task_estimates
    "mi_estimates_on_task",
    # _gaussian_torch
    "total_correlation_gaussian_torch",
    "isotropic_mixture_log_density_torch",
    # _representation
    "representation_entropies",
    "representation_entropy_ingredients",
]
