"""Every public name of every subpackage imports (bmi's test_api idea)."""
import importlib

import pytest

SUBPACKAGES = ["mitheory", "mitheory.generative", "mitheory.info", "mitheory.info.tasks",
               "mitheory.data", "mitheory.models", "mitheory.study",
               "mitheory.objectives", "mitheory.stats", "mitheory.train", "mitheory.cpa"]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_public_names_resolve(name):
    mod = importlib.import_module(name)
    names = getattr(mod, "__all__", None)
    if name == "mitheory.info.tasks" and names is None:
        names = [n for n in dir(mod) if not n.startswith("_")]
    assert names, f"{name} has no __all__"
    for n in names:
        assert hasattr(mod, n), f"{name}.{n} is in __all__ but missing"


