"""Statistics: identifiability metrics (R^2, MCC), linear probes, two-sample, normality and
paired tests, correlations with confidence intervals, an estimator's accuracy over replicates,
generalization bounds of linear probes, and the plateau rule of training-budget curves."""
from mitheory.stats._accuracy import estimate_accuracy, replicate_accuracy, replicate_mean_se
from mitheory.stats._convergence import (PLATEAU_TOL, even_checkpoints, interval_means,
                                         log_checkpoints, plateau_status, trend_status)
from mitheory.stats._correlation import CORRELATION_METHODS, Correlation, correlation
from mitheory.stats._generalization import (
    DEFAULT_SIGMAS,
    GeneralizationBound,
    LinearProbe,
    fit_linear_probe,
    generalization_bound_pac_bayes,
    generalization_bound_rademacher,
    generalization_bound_ssl,
)
from mitheory.stats._identifiability import (
    R2_METHODS,
    mcc,
    r2_identifiability,
    r2_identifiability_blocks,
    r2_kernel,
    r2_linear,
)
from mitheory.stats._normality import (
    NORMALITY_METHODS,
    NormalityTest,
    cauchy_combination,
    dagostino_pearson,
    henze_zirkler,
    mardia,
    normality_test,
    normality_tests,
    numerical_rank,
    project_samples,
)
from mitheory.stats._paired import PairedTest, holm_adjust, paired_test
from mitheory.stats._probe import downstream_labels, linear_probe_accuracy
from mitheory.stats._spectrum import effective_rank, off_diagonal_ratio
from mitheory.stats._two_sample import (
    TwoSampleTest,
    energy_distance,
    median_bandwidth,
    mmd_rbf,
    two_sample_test,
)
from mitheory.stats._convergence import relative_trend_status
from mitheory.stats._reference import (checkpoint_mean_se, family_vote,
                                       paired_reference_tests)
from mitheory.stats._reference import (compare_with_reference, family_vote_criterion,
                                       family_vote_table)
from mitheory.stats._bound_points import (correlations_with, probe_gaps_and_bounds,
                                          stratified_prefix)
from mitheory.stats._noise_scale import (DISTANCE_QUANTILES, largest_passing_scale,
                                         pairwise_distances_vs_noise)
from mitheory.stats._noise_scale import pool_noise_sweeps
from mitheory.stats._bound_points import bounds_vs_gap

__all__ = ["Correlation", "CORRELATION_METHODS", "DEFAULT_SIGMAS", "GeneralizationBound",
           "LinearProbe", "NORMALITY_METHODS", "NormalityTest", "PairedTest", "PLATEAU_TOL",
           "R2_METHODS", "TwoSampleTest", "cauchy_combination", "correlation",
           "dagostino_pearson", "downstream_labels", "effective_rank",
           "even_checkpoints", "energy_distance",
           "fit_linear_probe", "generalization_bound_pac_bayes",
           "generalization_bound_rademacher", "generalization_bound_ssl", "henze_zirkler",
           "holm_adjust", "interval_means", "linear_probe_accuracy", "log_checkpoints",
           "mardia", "mcc",
           "median_bandwidth", "mmd_rbf", "normality_test", "normality_tests", "numerical_rank",
           "paired_test", "plateau_status", "project_samples", "r2_identifiability",
           "r2_identifiability_blocks", "r2_kernel", "r2_linear", "replicate_accuracy",
           "trend_status", "two_sample_test",
           "replicate_mean_se", "estimate_accuracy",
           "off_diagonal_ratio",
           "checkpoint_mean_se", "family_vote", "paired_reference_tests",
           "relative_trend_status",
           "DISTANCE_QUANTILES", "largest_passing_scale", "pairwise_distances_vs_noise",
           "correlations_with", "probe_gaps_and_bounds", "stratified_prefix",
           "compare_with_reference", "family_vote_criterion", "family_vote_table",
           "pool_noise_sweeps", "bounds_vs_gap"]
