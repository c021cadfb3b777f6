"""Fault injection: a reverse proxy that makes a faithful target deviate from the documents in one named way,
so the self-test can prove that the conformance suite notices (and names the right requirement); and benign
variants through the same proxy (benign.py), changes the documents allow, that the suite must not fail on."""

from .benign import VARIANTS, Variant, variant
from .catalog import CATALOG, fault
from .proxy import Context, Fault, FaultProxy

__all__ = ["CATALOG", "VARIANTS", "Context", "Fault", "FaultProxy", "Variant", "fault", "variant"]
