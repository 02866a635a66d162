"""Contrastive methods: InfoNCE (Zimmermann / von Kuegelgen forms), SimCLR, spectral, f-MI.

Each calls its loss in ``mitheory.objectives``; only InfoNCE, which draws fresh negatives, needs
a class of its own.
"""
from __future__ import annotations

from torch import nn

from mitheory import objectives as obj
from mitheory._validate import check_option, check_positive, check_process
from mitheory.generative import BoxProcess, SphereProcess
from mitheory.train._method import SSLMethod, register_method, register_objective


class InfoNCE(SSLMethod):
    """InfoNCE in Zimmermann et al.'s forms: dot product on the sphere or squared-L2 energies.

    Negatives are fresh independent marginal samples ``x_neg`` (von Kuegelgen), and the positive
    is part of the denominator (cl-ica ``SimCLRLoss`` / ``LpSimCLRLoss``).
    """

    name = "infonce"
    needs_negatives = True

    def __init__(self, encoder: nn.Module, *, tau: float = 1.0, similarity: str = "l2sq",
                 denominator: str = "logsumexp") -> None:
        super().__init__(encoder)
        self.tau = check_positive(tau, "tau")
        self.similarity = check_option(similarity, "similarity", ("dot", "l2sq"))
        self.denominator = check_option(denominator, "denominator", ("logsumexp", "logmeanexp"))

    def loss(self, x_a, x_b, x_neg=None):
        # negatives first: the order of the forward passes sets autograd's accumulation order
        z_neg = self.encode(x_neg, "x_neg") if x_neg is not None else None
        z_a, z_b = self.encode_pair(x_a, x_b)
        return obj.infonce_loss(z_a, z_b, z_neg, tau=self.tau, similarity=self.similarity,
                                denominator=self.denominator, gather=self.gather)


def _dot(options) -> bool:
    return options.get("similarity", "l2sq") == "dot"


register_method("infonce", lambda enc, d, **kw: InfoNCE(enc, **kw), concept="contrastive",
                objective="infonce_loss", needs_negatives=True, sphere_output=_dot,
                output_normalised=_dot, scale_invariant=_dot,
                summary="InfoNCE with fresh marginal negatives (dot on the sphere or -|.|^2)")
register_objective("simclr", obj.nt_xent_loss, concept="contrastive", output_normalised=True,
                   scale_invariant=True, summary="SimCLR NT-Xent on the 2N x 2N batch (cosine)")
register_objective("spectral", obj.spectral_contrastive_loss, concept="contrastive",
                   summary="spectral contrastive loss (official form, norm clip at sqrt(mu))")
register_objective("fmi_alpha", obj.f_mi_alpha_loss, concept="contrastive",
                   defaults={"alpha": 2.0, "ratio": "exp"},
                   summary="alpha-divergence f-MI bound (alpha=2, ratio='linear': spectral)")


def infonce_options(process) -> dict:
    """InfoNCE's options for ``process`` as the papers pair them: the model family contains
    the true positive-pair conditional, as Zimmermann et al.'s theorems assume.

    * sphere + vMF(kappa): dot product, ``tau = 1 / kappa`` (exp(h.h~ / tau) is the vMF);
    * box + Normal(sigma): ``-|h - h~|^2``, ``tau = 2 sigma^2`` (the Normal's exponent);
      cl-ica's code default is ``tau = 1`` whatever sigma (the box + Laplace process gets the
      same squared-L2 form with its scale, not the L1 one of its conditional: ``reconstructed``);
    * content/style (von Kuegelgen): ``-|h - h~|^2``, ``tau = 1``, log-mean-exp denominator,
      as ssl_identifiability's code.
    """
    check_process(process)
    if isinstance(process, SphereProcess):
        return {"similarity": "dot", "tau": 1.0 / process.kappa}
    if isinstance(process, BoxProcess):
        return {"similarity": "l2sq", "tau": 2 * process.scale**2, "denominator": "logsumexp"}
    return {"similarity": "l2sq", "tau": 1.0, "denominator": "logmeanexp"}
