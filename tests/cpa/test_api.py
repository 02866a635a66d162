"""Every public name of mitheory.cpa imports, and the public functions take ``device``."""
import inspect

import mitheory.cpa as cpa


def test_all_names_exist():
    assert sorted(cpa.__all__) == sorted(set(cpa.__all__))
    for name in cpa.__all__:
        assert getattr(cpa, name) is not None


def test_network_functions_accept_device_and_keyword_only_options():
    for name in ("region_affine_map", "region_code", "boundary_distance",
                 "exit_probability_bounds", "exit_probability_mc", "regions_on_segment",
                 "regions_in_slice", "output_mixture", "sample_output_law", "output_law_check",
                 "region_statistics"):
        params = inspect.signature(getattr(cpa, name)).parameters
        assert params["device"].kind is inspect.Parameter.KEYWORD_ONLY, name
        if "seed" in params:
            assert list(params)[-1] == "seed", name  # seed last (STYLE.md)
