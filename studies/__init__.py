"""Studies: one module per claim or figure; run as ``python -m studies.<name>``."""
