"""Allow ``python -m chatkitd``."""

from chatkitd.cli import main

main()
