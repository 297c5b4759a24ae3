"""``python -m sfsync.emulator serve …``."""

from __future__ import annotations

import sys

from sfsync.emulator.serve import main

if __name__ == "__main__":
    sys.exit(main())
