"""Fault injection: a reverse proxy that makes a faithful target deviate from the documents in one named way,
so the self-test can prove that the conformance suite notices (and names the right requirement)."""

from .catalog import CATALOG, fault
from .proxy import Context, Fault, FaultProxy

__all__ = ["CATALOG", "Context", "Fault", "FaultProxy", "fault"]
