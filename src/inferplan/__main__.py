"""`python -m inferplan`: the same command line as the `inferplan` script."""

from .cli import main

main()
