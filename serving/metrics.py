"""Prometheus metrics at /metrics, through `prometheus-client`.

Under gunicorn every worker counts: with PROMETHEUS_MULTIPROC_DIR set (the shipped gunicorn.conf.py sets it
before any worker starts) values live in files there and /metrics adds up all workers' files.
Model builds reach the metrics as log records (the build code knows nothing of Prometheus).
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BUILD_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)

REQUESTS = Counter("sluice_requests", "Requests answered, by API and status", ["api", "status"])
LATENCY = Histogram(
    "sluice_request_duration_seconds", "Time to answer, body included", ["api"], buckets=LATENCY_BUCKETS
)
ROWS = Counter("sluice_rows_sent", "Rows sent in answers", ["api"])
BYTES = Counter("sluice_bytes_sent", "Bytes of answers sent", ["api"])
IN_FLIGHT = Gauge(
    "sluice_queries_in_flight", "API answers being computed or streamed now", multiprocess_mode="livesum"
)
REJECTED = Counter("sluice_queries_rejected", "API requests refused for lack of capacity (503)")
TIMED_OUT = Counter("sluice_queries_timed_out", "Queries stopped by the query timeout (504)")
PROJECT_ERRORS = Counter(
    "sluice_project_errors", "Answers that failed because of a project file (template or SQL error)", ["api"]
)
BUILD_SECONDS = Histogram(
    "sluice_model_build_seconds", "Time to build a model", ["model"], buckets=BUILD_BUCKETS
)
LOAD_ERRORS = Gauge(
    "sluice_load_errors", "Project files that failed at the last load or reload", multiprocess_mode="liveall"
)


def observe_answer(api: str | None, status: int, seconds: float, rows: int | None, sent: int) -> None:
    """Count one answered request (called once its body has been sent)."""
    requests, latency, sent_bytes, sent_rows = _answer_series(api or "-", status)
    requests.inc()
    latency.observe(seconds)
    sent_bytes.inc(sent)
    if rows:
        sent_rows.inc(rows)
    if api is not None and status == 503:
        REJECTED.inc()
    if status == 504:
        TIMED_OUT.inc()


@functools.lru_cache(maxsize=4096)
def _answer_series(api: str, status: int) -> tuple[Any, Any, Any, Any]:
    """The labelled series an answer counts in, kept: looking one up by its labels validates them and takes a
    lock on every call, and API names and statuses are few."""
    return REQUESTS.labels(api, str(status)), LATENCY.labels(api), BYTES.labels(api), ROWS.labels(api)


def exposition() -> tuple[bytes, str]:
    """The text exposition of every worker's metrics (or this process's alone outside gunicorn)."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class BuildMetricsHandler(logging.Handler):
    """Turns the build's `model built` records into observations of the build-time histogram."""

    def emit(self, record: logging.LogRecord) -> None:
        seconds = getattr(record, "seconds", None)
        if getattr(record, "kind", None) == "model_build" and isinstance(seconds, float):
            BUILD_SECONDS.labels(getattr(record, "model", "-")).observe(seconds)


def install_build_metrics() -> None:
    logger = logging.getLogger("sluice.build")
    if not any(isinstance(handler, BuildMetricsHandler) for handler in logger.handlers):
        logger.addHandler(BuildMetricsHandler(logging.INFO))


def mark_worker_dead(pid: int) -> None:
    """gunicorn's child_exit hook: drop a dead worker's live gauges from the sums."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(pid)
