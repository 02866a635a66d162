"""Statistics: identifiability metrics (R^2, MCC), linear probes, two-sample and paired tests."""
from mitheory.stats._identifiability import (
    R2_METHODS,
    mcc,
    r2_identifiability,
    r2_identifiability_blocks,
    r2_kernel,
    r2_linear,
)
from mitheory.stats._paired import PairedTest, holm_adjust, paired_test
from mitheory.stats._probe import downstream_labels, linear_probe_accuracy
from mitheory.stats._spectrum import effective_rank
from mitheory.stats._two_sample import (
    TwoSampleTest,
    energy_distance,
    median_bandwidth,
    mmd_rbf,
    two_sample_test,
)

__all__ = ["PairedTest", "R2_METHODS", "TwoSampleTest", "downstream_labels", "effective_rank",
           "energy_distance", "holm_adjust", "linear_probe_accuracy", "mcc", "median_bandwidth",
           "mmd_rbf", "paired_test", "r2_identifiability", "r2_identifiability_blocks",
           "r2_kernel", "r2_linear", "two_sample_test"]
