"""cssw-docs: turns children's social care case-audit workbooks into finished Word audit packs."""

__version__ = "0.1.0"
