"""Engines that run bound statements: one module per engine (DuckDB first), deadlines, streaming execution."""
