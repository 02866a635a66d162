"""Continuous piecewise-affine (CPA) networks: activation regions, exact per-region affine maps,
distances to region boundaries, and the Gaussian-mixture law of outputs under input noise.

Implements the mechanism behind Theorem 1 of Shwartz-Ziv et al. (2022, 2023; papers 001 and 004,
dossier ``vicreg_infotheory.md`` Sec. 2): a ReLU-family network is affine on each activation
region, so Gaussian noise that stays in its region comes out exactly Gaussian.
"""
from mitheory.cpa._boundary import (
    BoundaryDistance,
    ExitProbability,
    ExitProbabilityMC,
    boundary_distance,
    exit_probability_bounds,
    exit_probability_mc,
)
from mitheory.cpa._convert import cpa_from_resnet
from mitheory.cpa._counting import (
    SegmentRegions,
    SliceRegions,
    region_statistics,
    regions_in_slice,
    regions_on_segment,
)
from mitheory.cpa._modules import Abs, BasicBlock, cpa_cnn, cpa_mlp, cpa_resnet
from mitheory.cpa._output_law import (
    OutputLawCheck,
    OutputMixture,
    component_moment_errors,
    output_entropy_bounds,
    output_law_check,
    output_mixture,
    sample_output_law,
)
from mitheory.cpa._regions import RegionMap, region_affine_map, region_code
from mitheory.cpa._trace import CPANetwork, NotCPAError, trace_cpa
from mitheory.cpa._sweeps import output_law_sweep, region_statistics_grid
from mitheory.cpa._prototype_classifier import fit_prototype_classifier
from mitheory.cpa._noise_response import exit_probability_by_scale, noise_response
from mitheory.cpa._noise_response import noise_response_curves

__all__ = [
    "Abs",
    "BasicBlock",
    "BoundaryDistance",
    "CPANetwork",
    "ExitProbability",
    "ExitProbabilityMC",
    "NotCPAError",
    "OutputLawCheck",
    "OutputMixture",
    "RegionMap",
    "SegmentRegions",
    "SliceRegions",
    "boundary_distance",
    "component_moment_errors",
    "cpa_from_resnet",
    "cpa_cnn",
    "cpa_mlp",
    "cpa_resnet",
    "exit_probability_bounds",
    "exit_probability_mc",
    "output_entropy_bounds",
    "output_law_check",
    "output_mixture",
    "region_affine_map",
    "region_code",
    "region_statistics",
    "regions_in_slice",
    "regions_on_segment",
    "sample_output_law",
    "trace_cpa",
    "output_law_sweep",
    "region_statistics_grid",
    "fit_prototype_classifier",
    "exit_probability_by_scale",
    "noise_response",
    "noise_response_curves",
]
