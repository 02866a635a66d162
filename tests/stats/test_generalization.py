import math

import numpy as np
import pytest
from scipy import integrate, stats as sps
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from mitheory.stats import (LinearProbe, fit_linear_probe, generalization_bound_pac_bayes,
                            generalization_bound_rademacher, generalization_bound_ssl)

# the tiny case: K = 2 classes, dim 1, W = [[1], [-1]], b = 0, no standardisation;
# labelled h = (1, -1) with y = (0, 1); unlabelled views h' = (1, 0), h'' = (0.5, 0)
PROBE = LinearProbe(weight=np.array([[1.0], [-1.0]]), bias=np.zeros(2), mean=np.zeros(1),
                    scale=np.ones(1))
H, Y = np.array([[1.0], [-1.0]]), np.array([0, 1])
HA, HB = np.array([[1.0], [0.0]]), np.array([[0.5], [0.0]])
# each sample has logits (1, -1) towards its own class: CE = ln(1 + e^-2) = 0.126928011043
CE = 0.126928011043
# ||[w_k, b_k]|| = 1, max ||[h, 1]|| = sqrt(2): M = ln 2 + 2 * 1 * sqrt(2) = 3.521574305306
M = 3.521574305306
# sqrt(ln(2 / 0.05) / (2 * 2)) = sqrt(3.688879454 / 4) = 0.960322763
SQ = 0.960322763
ABS = 1e-9  # the numbers above are written to 9-12 digits


def test_rademacher_terms_by_hand():
    b = generalization_bound_rademacher(PROBE, H, Y, delta=0.05)
    assert b.terms["empirical_loss"] == pytest.approx(CE, abs=ABS)
    # 2 * R_n, R_n <= 2 B rho sqrt(K/n): B = ||[W, b]||_F = sqrt(2), rho = sqrt((2 + 2)/2)
    # = sqrt(2), K/n = 1: 2 * 2 * sqrt(2) * sqrt(2) * 1 = 8
    assert b.terms["complexity"] == pytest.approx(8.0, abs=ABS)
    # 3 M sqrt(ln(2/delta)/(2n)) = 3 * 3.521574305 * 0.960322763 = 10.145544200
    assert b.terms["concentration"] == pytest.approx(10.1455442001, abs=1e-8)
    assert b.details["loss_range"] == pytest.approx(M, abs=ABS)
    assert b.total == pytest.approx(CE + 8.0 + 10.1455442001, abs=1e-8)
    assert b.gap_bound == pytest.approx(b.total - CE, abs=1e-12)
    assert not b.reconstructed and b.kind == "upper_bound" and b.unit == "nats"


def test_ssl_terms_by_hand():
    b = generalization_bound_ssl(PROBE, H, Y, HA, HB, delta=0.05)
    assert b.terms["empirical_loss"] == pytest.approx(CE, abs=ABS)
    # invariance distance mean(|1 - 0.5|, |0 - 0|) = 0.25; L_h = sqrt(2) * ||W||_2 = sqrt(2) *
    # sqrt(2) = 2: 0.5
    assert b.details["invariance_distance"] == pytest.approx(0.25, abs=ABS)
    assert b.terms["invariance"] == pytest.approx(0.5, abs=ABS)
    # 4 B rho_m sqrt(K/m): rho_m = sqrt(((1 + 1) + (0 + 1)) / 2) = sqrt(1.5) = 1.224744871;
    # 4 * sqrt(2) * 1.224744871 * 1 = 6.928203230
    assert b.terms["complexity"] == pytest.approx(6.928203230, abs=1e-8)
    # M (sqrt(ln 40/(2m)) + sqrt(ln 40/(2n))), m = n = 2: 3.521574305 * 2 * 0.960322763
    # = 6.763696133 (the largest feature norm is still sqrt(2), so M is unchanged)
    assert b.terms["concentration"] == pytest.approx(6.763696133, abs=1e-8)
    assert b.total == pytest.approx(CE + 0.5 + 6.928203230 + 6.763696133, abs=1e-8)
    assert b.reconstructed and b.name == "ssl_vicreg"


def test_pac_bayes_terms_by_hand():
    sigma, n_mc = 0.5, 100
    b = generalization_bound_pac_bayes(PROBE, H, Y, sigmas=[sigma], n_mc=n_mc, delta=0.05, seed=0)
    # KL(N(w, s^2 I) || N(0, s^2 I)) = ||w||^2 / (2 s^2) = 2 / 0.5 = 4
    assert b.details["kl_divergence"] == pytest.approx(4.0, abs=ABS)
    # J = 1: M sqrt((4 + ln(4 sqrt(2) / 0.05)) / 4) = 3.521574305 * sqrt((4 + 4.728598) / 4)
    # = 3.521574305 * 1.477210 = 5.202106
    assert b.terms["kl"] == pytest.approx(5.2021056, abs=1e-6)  # 7-digit hand arithmetic
    # M sqrt(ln(2/0.05) / (2 * 100)) = 3.521574305 * 0.1358102 = 0.4782655
    assert b.terms["monte_carlo"] == pytest.approx(0.4782655, abs=1e-6)
    assert b.terms["empirical_loss"] == pytest.approx(CE, abs=ABS)
    assert b.total == pytest.approx(sum(b.terms.values()), abs=1e-12)


def test_pac_bayes_gibbs_loss_matches_quadrature():
    # each sample's margin s_y - s_other = 2 + sigma (e1 + e2 - e3 - e4) ~ N(2, 4 sigma^2), so
    # with sigma = 0.5 the Gibbs loss is E min(softplus(-X), M) over X ~ N(2, 1), by quadrature
    def integrand(x):
        return min(math.log1p(math.exp(-x)), M) * sps.norm.pdf(x, loc=2.0, scale=1.0)

    want = integrate.quad(integrand, -40, 40, limit=200)[0]
    b = generalization_bound_pac_bayes(PROBE, H, Y, sigmas=[0.5], n_mc=20000, seed=1)
    gibbs = b.terms["empirical_loss"] + b.terms["perturbation"]
    # the loss's sd is ~0.4; 20000 draws (2 samples each) give SE ~ 0.003: 0.015 is ~5 SE
    assert gibbs == pytest.approx(want, abs=0.015)
    assert b.terms["perturbation"] > 0  # softplus is convex: Jensen, margin mean unchanged


def test_pac_bayes_picks_the_smallest_total_on_the_grid_and_is_seeded():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(60, 3))
    y = (h[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    probe = fit_linear_probe(h, y, n_classes=2)
    a = generalization_bound_pac_bayes(probe, h, y, seed=3)
    assert a.total == pytest.approx(min(r["total"] for r in a.details["per_sigma"]), abs=1e-12)
    assert a.details["n_sigmas"] == 13
    again = generalization_bound_pac_bayes(probe, h, y, seed=3)
    assert again.total == a.total


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fit_linear_probe_reproduces_sklearn_probabilities(n_classes):
    rng = np.random.default_rng(1)
    h = rng.normal(size=(90, 4)) * [1.0, 3.0, 0.5, 2.0] + 1.0
    y = np.arange(90) % n_classes
    h[:, 0] += y  # some signal
    probe = fit_linear_probe(h, y, n_classes=n_classes)
    sc = StandardScaler().fit(h)
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(sc.transform(h), y)
    s = probe.standardize(h) @ probe.weight.T + probe.bias
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    want = clf.predict_proba(sc.transform(h))
    assert p == pytest.approx(want, abs=1e-10)  # same fit, a reparametrisation: rounding only
    assert probe.cross_entropy(h, y) == pytest.approx(log_loss(y, want), abs=1e-10)
    assert np.allclose(probe.weight.sum(axis=0), 0.0, atol=1e-6)  # centred rows (min norm)


def test_complexity_and_concentration_shrink_with_more_samples():
    # the data tiled t times: same RMS and max radius, so the complexity term scales as
    # 1/sqrt(t) exactly and concentration decreases
    rng = np.random.default_rng(2)
    h = rng.normal(size=(30, 3))
    y = (h[:, 0] > 0).astype(int)
    ha, hb = h + 0.1 * rng.normal(size=h.shape), h + 0.1 * rng.normal(size=h.shape)
    probe = fit_linear_probe(h, y, n_classes=2)
    sup = [generalization_bound_rademacher(probe, np.tile(h, (t, 1)), np.tile(y, t))
           for t in (1, 4)]
    assert sup[1].terms["complexity"] == pytest.approx(sup[0].terms["complexity"] / 2, rel=1e-12)
    assert sup[1].terms["concentration"] < sup[0].terms["concentration"]
    ssl = [generalization_bound_ssl(probe, h, y, np.tile(ha, (t, 1)), np.tile(hb, (t, 1)))
           for t in (1, 4)]
    assert ssl[1].terms["complexity"] == pytest.approx(ssl[0].terms["complexity"] / 2, rel=1e-12)
    assert ssl[1].terms["concentration"] < ssl[0].terms["concentration"]
    assert ssl[1].terms["invariance"] == pytest.approx(ssl[0].terms["invariance"], rel=1e-12)
    # a smaller delta (higher confidence) gives a larger bound
    for f in (lambda d: generalization_bound_rademacher(probe, h, y, delta=d),
              lambda d: generalization_bound_ssl(probe, h, y, ha, hb, delta=d),
              lambda d: generalization_bound_pac_bayes(probe, h, y, delta=d)):
        assert f(0.01).total > f(0.1).total


def test_invariance_term_vanishes_for_identical_views():
    b = generalization_bound_ssl(PROBE, H, Y, HA, HA)
    assert b.terms["invariance"] == 0.0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: generalization_bound_rademacher("probe", H, Y), "probe must be a LinearProbe"),
    (lambda: generalization_bound_rademacher(PROBE, np.ones((2, 2)), Y), "h must have 1 col"),
    (lambda: generalization_bound_rademacher(PROBE, H, [0, 2]), "y must be < 2"),
    (lambda: generalization_bound_rademacher(PROBE, H, [0, 1, 1]), "y must have 2 entries"),
    (lambda: generalization_bound_rademacher(PROBE, H, Y, delta=1.0), "delta must be in"),
    (lambda: generalization_bound_ssl(PROBE, H, Y, HA, HB[:1]), "h_view_a and h_view_b"),
    (lambda: generalization_bound_ssl(PROBE, H, Y, HA * np.nan, HB), "h_view_a contains"),
    (lambda: generalization_bound_pac_bayes(PROBE, H, Y, sigmas=[0.1, -1.0]), "sigmas"),
    (lambda: generalization_bound_pac_bayes(PROBE, H, Y, n_mc=0), "n_mc"),
    (lambda: fit_linear_probe(H, Y, n_classes=3), "missing class"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
