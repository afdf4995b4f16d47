"""``python -m shoots ...`` runs the bundled binary."""

import os
import subprocess
import sys

from .daemon import binary


def main() -> int:
    path = binary()
    if sys.platform == "win32":
        return subprocess.call([path, *sys.argv[1:]])
    os.execv(path, [path, *sys.argv[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
