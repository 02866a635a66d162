"""Decorrelation and log-det methods: VICReg, VICReg with entropy estimators, Barlow Twins, MMI.

Each calls its loss in ``mitheory.objectives``; the VICReg-entropy and MMI settings are
``reconstructed`` (dossiers vicreg_infotheory.md and mmi_minc.md section 1.4).
"""
from __future__ import annotations

from torch import nn

from mitheory import objectives as obj
from mitheory._validate import check_int, check_option, check_positive
from mitheory.train._method import SSLMethod, register_method, register_objective

VICREG_ESTIMATORS: tuple[str, ...] = ("logdet", "kl", "bhattacharyya")


class MMI(SSLMethod):
    """MMI: minus the second-order (log-det) MI of the two views' embeddings.

    ``logdet`` is ``"taylor"`` (order ``order``, rescaling ``beta``: a number or a rule of
    :func:`~mitheory.objectives.taylor_rescaling`) or ``"exact"``.
    """

    name = "mmi"

    def __init__(self, encoder: nn.Module, *, logdet: str = "taylor", order: int = 4,
                 beta: float | str = "trace", eps: float = 0.0) -> None:
        super().__init__(encoder)
        self.logdet = check_option(logdet, "logdet", ("taylor", "exact"))
        self.order = check_int(order, "order", minimum=1)
        if isinstance(beta, str):
            check_option(beta, "beta", obj.TAYLOR_RULES)
        else:
            check_positive(beta, "beta")
        self.beta, self.eps = beta, eps

    def loss(self, x_a, x_b, x_neg=None):
        return obj.mmi_loss(*self.encode_pair(x_a, x_b), method=self.logdet,
                            order=self.order, beta=self.beta, eps=self.eps,
                            gather=self.gather)


register_objective("vicreg", obj.vicreg_loss, concept="decorrelation",
                   summary="VICReg (official-code averaging convention by default)")
register_objective("barlow", obj.barlow_twins_loss, concept="decorrelation",
                   scale_invariant=True,
                   summary="Barlow Twins (batch-standardised cross-correlation)")
for _est in VICREG_ESTIMATORS:
    register_objective(f"vicreg_{_est}", obj.vicreg_entropy_loss, concept="decorrelation",
                       defaults={"estimator": _est},
                       summary=f"VICReg invariance minus a {_est} entropy estimate per branch")
def _mmi_scale_invariant(options) -> bool:
    # the Gaussian MI of the two views is invariant to a common scale; the Taylor series is too
    # when beta is a rescaling rule of the matrix (not a fixed number), and eps breaks it
    beta_rule = isinstance(options.get("beta", "trace"), str)
    exact = options.get("logdet", "taylor") == "exact"
    return options.get("eps", 0.0) == 0.0 and (exact or beta_rule)


register_method("mmi", lambda enc, d, **kw: MMI(enc, **kw), concept="decorrelation",
                objective="mmi_loss", scale_invariant=_mmi_scale_invariant,
                summary="MMI: minus the Taylor or exact log-det (second-order) MI")


def mmi_options(label: str) -> dict:
    """The :class:`MMI` options a run label names, for sweeps written as strings (a CLI list).

    ``"exact"`` -> ``{"logdet": "exact"}``; ``"taylor<order>_<beta>"`` -> ``{"order": order,
    "beta": beta}`` with ``beta`` a rescaling rule (``"trace"``, ``"frobenius"``,
    ``"spectral"``) or a positive number, e.g. ``"taylor4_frobenius"``, ``"taylor4_1.0"``.

    >>> mmi_options("taylor4_frobenius"), mmi_options("taylor2_0.5")
    ({'order': 4, 'beta': 'frobenius'}, {'order': 2, 'beta': 0.5})

    Raises
    ------
    ValueError
        If ``label`` is neither ``"exact"`` nor of the ``taylor<order>_<beta>`` form with a
        positive integer order and a rule or positive number as beta.
    """
    if label == "exact":
        return {"logdet": "exact"}
    form = "'exact' or 'taylor<order>_<beta>' (e.g. 'taylor4_frobenius')"
    if not isinstance(label, str) or not label.startswith("taylor") or label.count("_") != 1:
        raise ValueError(f"label must be {form}, got {label!r}")
    order, beta = label[len("taylor"):].split("_")
    try:
        opts = {"order": int(order), "beta": beta if beta in obj.TAYLOR_RULES else float(beta)}
    except ValueError:
        raise ValueError(f"label must be {form}, got {label!r}") from None
    check_int(opts["order"], "order in label", minimum=1)
    if not isinstance(opts["beta"], str):
        check_positive(opts["beta"], "beta in label")
    return opts
