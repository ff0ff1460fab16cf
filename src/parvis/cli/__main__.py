"""`python -m parvis.cli`: the same command as `parvis`."""

from parvis.cli import main

main()
