"""Conformance and load-test suite, with an embedded emulator, for four image-search and tagging APIs."""

__version__ = "0.1.0"
