"""``python -m pipelines.io.feeds`` is the same as ``newsflow feeds``."""
import sys

from pipelines.io.feeds.cli import main

sys.exit(main())
