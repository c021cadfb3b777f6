"""The conformance suite's plugin, for `pytest tests [--targets FILE] [--allow-destructive]`."""

pytest_plugins = ["fashion_conformance.plugin"]
