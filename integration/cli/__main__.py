"""`python -m integration.cli …`: the `okrbot` command, without the console script."""

from .main import main

main()
