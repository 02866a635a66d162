"""Encoders: the cl-ica / ssl_identifiability MLP for the latent-process studies.

``mitheory.models`` sits below ``train`` and ``paper_repro``: it builds networks and knows nothing
of objectives or data.
"""
from mitheory.models._mlp import SphereNorm, init_linear_, make_mlp_encoder, paper_hidden

__all__ = ["SphereNorm", "init_linear_", "make_mlp_encoder", "paper_hidden"]
