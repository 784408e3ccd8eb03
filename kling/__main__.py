import sys

from kling.cli.main import main

sys.exit(main())
