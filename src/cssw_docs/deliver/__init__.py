"""Delivery: building messages (pure) and sending them (SMTP or .eml files)."""
