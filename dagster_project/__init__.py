"""NHS Quality Accounts pipeline: ingest, validate, transform and publish quality indicators."""

__version__ = "0.1.0"
