"""Validation: run each feed's Great Expectations suite and split valid rows from quarantine."""
