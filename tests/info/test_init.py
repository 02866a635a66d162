"""The public surface of mitheory.info: importable names whose docstrings say what they return."""
import re

import mitheory.info as info


def test_all_names_import_and_say_their_kind():
    kinds = re.compile(r"\*\*(exact|estimate|lower bound|upper bound)\*\*", re.IGNORECASE)
    for name in info.__all__:
        obj = getattr(info, name)
        # not information functions: a subpackage, and the words describing what
        # representation_entropies computes (a dict of strings for a study's log)
        if name in ("tasks", "representation_entropy_ingredients"):
            continue
        assert obj.__doc__, name
        # every information function states exact / estimate / lower or upper bound (STYLE 5)
        assert kinds.search(obj.__doc__), f"{name} does not say what kind of value it returns"
        assert "Notes" in obj.__doc__ or "math::" in obj.__doc__, f"{name} cites no formula"
