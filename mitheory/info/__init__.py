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
    # submodule
    "tasks",
]
