"""One provider's Quality Account for one year: its contents, tables, statements and PDF."""
