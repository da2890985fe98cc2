"""Benchmarks that print figures: `kefu bench ingest`, `kefu bench inbox`."""
