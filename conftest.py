"""The conformance suite's plugins, for `pytest tests [--targets FILE] [--allow-destructive] [--reports DIR]`."""

pytest_plugins = ["fashion_conformance.plugin", "fashion_conformance.report.plugin"]
