"""The intake service: watch, settle, claim, ledger."""
