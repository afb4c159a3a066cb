"""Allow ``python -m cwingest``."""

from cwingest.cli import main

raise SystemExit(main())
