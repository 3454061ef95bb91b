"""`python -m factcheck`: the `factcheck` command."""

import sys

# The one import of the core from a front, allowed so that `python -m factcheck` works as the
# console script does: the CLI is the front that owns the command line.
from factcheck.cli import main

sys.exit(main())
