"""`python -m hyosan` runs the `hyosan` command."""

from hyosan.cli import main

main()
