"""Run the command line as ``python -m cssw_docs``."""

from .cli import main

main()
