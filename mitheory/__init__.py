"""mitheory: run, measure and plot the information-theoretic claims made about SSL.

Subpackages: ``generative`` (processes with known truth), ``info`` (information measures),
``objectives`` (SSL losses), ``stats`` (identifiability metrics, tests), ``train`` (small loops),
``cpa`` (piecewise-affine networks). Importing the package has no side effects.
"""
from mitheory._types import InfoValue, Kind, Seed, Unit, convert

__version__ = "0.1.0"
__all__ = ["InfoValue", "Kind", "Seed", "Unit", "convert", "__version__"]
