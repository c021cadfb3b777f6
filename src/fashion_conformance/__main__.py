"""`python -m fashion_conformance ...` = `fashion-conformance ...`."""

import sys

from .cli import main

sys.exit(main())
