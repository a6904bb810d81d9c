"""Allow `python -m entraide`."""

from entraide.cli import main

main()
