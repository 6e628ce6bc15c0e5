"""``python -m dirs.online``: see :mod:`dirs.online.cli`."""

import sys

from dirs.online.cli import main

sys.exit(main())
