import sys

from pricing.cli import main

sys.exit(main())
