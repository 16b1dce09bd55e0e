"""Ingest: files as their publishers write them, parsed into typed-by-name frames of text."""
