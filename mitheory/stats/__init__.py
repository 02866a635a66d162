"""Statistics: identifiability metrics (R^2, MCC); normality tests and more come later."""
from mitheory.stats._identifiability import (
    R2_METHODS,
    mcc,
    r2_identifiability,
    r2_kernel,
    r2_linear,
)
from mitheory.stats._probe import downstream_labels, linear_probe_accuracy
from mitheory.stats._spectrum import effective_rank

__all__ = ["R2_METHODS", "downstream_labels", "effective_rank", "linear_probe_accuracy", "mcc", "r2_identifiability",
           "r2_kernel", "r2_linear"]
