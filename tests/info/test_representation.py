import numpy as np
import pytest

from mitheory import info


def _z(seed=0):
    return np.random.default_rng(seed).normal(size=(300, 5)) * [1.0, 2.0, 3.0, 0.5, 1.5] + 4.0


def test_isotropic_and_sphere_entropies_are_scale_free_raw_is_not():
    h, g = info.representation_entropies(_z()), info.representation_entropies(7.3 * _z())
    for f in ("isotropic", "sphere"):  # one scalar removed: equal up to float64 rounding
        for e in ("logdet", "kl_upper", "bhattacharyya_lower", "knn"):
            assert h[f][e] == pytest.approx(g[f][e], rel=1e-9, abs=1e-9)
    # kNN entropy shifts by d log c under z -> c z (Kozachenko-Leonenko is scale-equivariant)
    assert g["raw"]["knn"] - h["raw"]["knn"] == pytest.approx(5 * np.log(7.3), rel=1e-9)


def test_numbers_are_the_library_estimators_on_the_stated_footing():
    z = _z()
    zc = z - z.mean(0)
    iso = zc * np.sqrt(5 / np.mean(np.sum(zc ** 2, axis=1)))  # mean per-dim variance 1
    h = info.representation_entropies(z, footings=("isotropic",), kernel_sigma=0.5, knn_k=3)
    c = np.cov(iso.T, bias=True)
    # logdet: the closed form 0.5 log det(I + C) of the footing's covariance
    assert h["isotropic"]["logdet"] == pytest.approx(0.5 * np.linalg.slogdet(np.eye(5) + c)[1],
                                                     rel=1e-10)
    assert h["isotropic"]["knn"] == pytest.approx(info.entropy_knn(iso, k=3).value, rel=1e-12)
    b = info.entropy_mixture_bounds(iso, (0.5 * np.sqrt(5)) ** 2,
                                    methods=("kl_upper", "bhattacharyya_lower"))
    assert h["isotropic"]["kl_upper"] == pytest.approx(b["kl_upper"].value, rel=1e-12)
    assert h["isotropic"]["bhattacharyya_lower"] <= h["isotropic"]["kl_upper"]  # KT ordering


def test_collapsed_and_duplicated_embeddings_give_none_with_a_reason():
    out = info.representation_entropies(np.ones((10, 3)))
    assert all(v["logdet"] is None and "collapsed" in v["error"] for v in out.values())
    z = np.repeat(_z()[:20], 5, axis=0)  # every point five times: kNN distances are zero
    h = info.representation_entropies(z, footings=("raw",))["raw"]
    assert h["knn"] is None and "knn_error" in h and h["logdet"] is not None


def test_ingredients_name_every_footing_and_quantity_of_the_estimates():
    ing = info.representation_entropy_ingredients(knn_k=5)
    h = info.representation_entropies(_z())
    assert set(ing["normalisations"]) == set(h)  # one description per footing computed
    assert set(ing["estimators"]) == set(h["isotropic"])  # and per quantity
    assert "k=5" in ing["estimators"]["knn"] and ing["unit"] == "nats"
    with pytest.raises(ValueError, match="knn_k"):
        info.representation_entropy_ingredients(knn_k=0)
