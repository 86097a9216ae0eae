"""``python -m interactions``: the same command line as the ``interactions`` script."""

import sys

from .cli import main

sys.exit(main())
