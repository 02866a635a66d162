"""Statistics: identifiability metrics (R^2, MCC); normality tests and more come later."""
from mitheory.stats._identifiability import (
    R2_METHODS,
    mcc,
    r2_identifiability,
    r2_kernel,
    r2_linear,
)

__all__ = ["R2_METHODS", "mcc", "r2_identifiability", "r2_kernel", "r2_linear"]
