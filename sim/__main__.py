"""``python -m sim`` is ``innosim``."""

import sys

from sim.cli import main

sys.exit(main())
