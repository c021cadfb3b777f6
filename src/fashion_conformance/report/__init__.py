"""Reports of a conformance run: the requirement matrix (JSON, Markdown), JUnit, HTML."""
