"""Everything that touches openpyxl: make the blank workbook, read a filled one, annotate it."""
