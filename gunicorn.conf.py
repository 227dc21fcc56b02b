"""gunicorn settings for Sluice: `gunicorn 'server:create_app()'` reads this file from its working directory.

Metrics: prometheus-client's multi-process mode, so /metrics sums every worker. The folder is created (and
emptied of a previous run's files) before any worker starts; a worker that exits leaves the live gauges.
"""

import os
import tempfile

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sluice-metrics-")

# SIGTERM: workers stop accepting and finish the answers in flight for up to this many seconds.
graceful_timeout = int(os.environ.get("SLUICE_GRACE_SECONDS", "30"))


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    from serving.metrics import mark_worker_dead

    mark_worker_dead(worker.pid)
