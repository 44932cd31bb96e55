"""The programme file ``assay.yaml``: scope as code, loaded into a typed, validated model."""

from assay.programme.loader import load, resolve_secrets
from assay.programme.model import Programme

__all__ = ["Programme", "load", "resolve_secrets"]
