"""Benchmarks: run each as a script (`python bench/bench_server.py`); not part of the test run."""
