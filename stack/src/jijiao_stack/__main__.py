import sys

from jijiao_stack.cli import main

sys.exit(main())
