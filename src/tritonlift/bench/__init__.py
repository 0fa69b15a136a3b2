"""Benchmark suites, the parallel runner and the reports (JSON, Markdown)."""
