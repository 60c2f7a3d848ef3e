"""`python -m refsheets`: the same as the `refsheets` command."""

from refsheets.cli import main

main()
