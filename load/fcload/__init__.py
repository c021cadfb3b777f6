"""Helpers of the Locust scenarios (load/locustfile.py, load/step_shape.py) and of their analysis
(fashion_conformance.loadrun). Nothing in this package imports Locust, so any process may import it."""
