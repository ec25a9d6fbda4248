"""`digest` as a script, so a profiler can run it.

    python [-m pyinstrument] bench/digest_entry.py --config digest.toml collect
"""

import sys

from digest.cli import main

if __name__ == "__main__":
    sys.exit(main())
