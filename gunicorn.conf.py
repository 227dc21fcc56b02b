"""Gunicorn settings for serving Sluice in production: `gunicorn 'server:create_app()'` from this folder.

Gunicorn reads this file from its working directory (or `-c PATH`); flags on the command line and in
`GUNICORN_CMD_ARGS` override it. Sluice's own settings stay in `SLUICE_*` variables; the ones used here
(workers, grace, query slots, metrics folder) are read through the same declarations as the app's
(project/settings.py), so a bad value stops gunicorn with one `error:` line.

Why these values:
- Threaded workers (`gthread`). A sync worker is pinned by each open connection until its timeout, so 200
  idle sockets stopped a 4-worker server cold. A gthread worker parks idle connections in a poller; a new
  connection holds a thread only until its first bytes arrive (5 s at most, then it waits in the poller
  too), so with enough threads a flood of idle sockets does not queue the real requests behind it.
- Sluice's worker class (`serving/worker.py`) is gthread with two changes: a thread that answered a
  kept-alive client waits 2 ms for its next request and answers it too (gthread otherwise passes every
  request through its main thread and back: that cost more than a small answer), and kept-alive
  connections are spread evenly across the workers (one worker could otherwise take them all while the
  other cores idle). gunicorn's own refusals (a request line or headers too long) are JSON, like Sluice's.
- Threads are cheap while they wait; DuckDB is not. What runs queries at once is bounded separately by
  `SLUICE_MAX_QUERIES` (per process), which must stay below `threads` so that the spare threads answer
  the 503 "overloaded" (with Retry-After) at once instead of queueing.
- Short keep-alive, bounded request lines and headers. Gunicorn has no timeout for a request whose headers
  trickle in (slowloris); a buffering reverse proxy in front (see README, `deploy/nginx.conf`) does that.
"""

import multiprocessing
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # `-c PATH` from another folder
from project.auth.authn import authenticator_from_settings
from project.errors import SluiceError
from project.settings import settings_from_env
from serving.worker import ConnectionBoard, SluiceWorker

try:  # settings no worker could start with stop gunicorn here, with one line, not each worker's traceback
    settings = settings_from_env(os.environ)
    if settings.auth:
        authenticator_from_settings(settings)
except SluiceError as error:
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(2) from None

wsgi_app = "server:create_app()"

worker_class = "serving.worker.SluiceWorker"  # gthread, kept-alive clients served faster (serving/worker.py)
SluiceWorker.board = ConnectionBoard()  # shared with the workers forked from this master
workers = settings.workers or multiprocessing.cpu_count()  # WEB_CONCURRENCY; DuckDB scales per core
threads = 128  # per worker: idle and slow connections, not queries (see SLUICE_MAX_QUERIES)
worker_connections = 1000  # open connections per worker, kept-alive ones included

timeout = 60  # a worker whose main loop stalls this long is restarted
# On SIGTERM (or a reload), workers stop accepting and the running answers get this long to finish
# (the query timeout is 30 s by default).
graceful_timeout = round(settings.grace_seconds)  # SLUICE_GRACE_SECONDS (gunicorn takes whole seconds)
keepalive = 5  # seconds an idle kept-alive (or never-speaking) connection stays open

limit_request_line = 8190  # the longest request line (method, path and query string)
limit_request_fields = 64  # headers per request
limit_request_field_size = 8190  # bytes per header
# gunicorn's control socket (`gunicornc`: worker counts, reload, shutdown) is one path per user
# ($HOME/.gunicorn/gunicorn.ctl), which every instance on the host takes over from the one before; Sluice does
# not use it, and signals do the same for the one master they name.
control_socket_disable = True

# Metrics: prometheus-client's multi-process mode, so /metrics sums every worker. The folder is set before
# any worker imports the app, emptied of a previous run's files at start, and a dead worker's gauges dropped.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = settings.metrics_dir or tempfile.mkdtemp(prefix="sluice-metrics-")


def when_ready(server):
    """Warn when the overload guard cannot fire: every thread could be running a query (a query slot per
    thread would let every thread run DuckDB at once and the 503 could never answer)."""
    max_queries = settings.max_queries
    if server.cfg.threads <= max_queries or max_queries == 0:
        server.log.warning(
            "SLUICE_MAX_QUERIES=%s with %s threads per worker: the 503 overload answer cannot fire; "
            "keep SLUICE_MAX_QUERIES below --threads",
            max_queries,
            server.cfg.threads,
        )


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def pre_fork(server, worker):
    worker.slot = SluiceWorker.board.claim(worker.age)
    if settings.duckdb_threads is None:
        # Each worker's DuckDB gets its share of the cores (of the workers running now: `-w` and TTIN count),
        # not all of them: with every worker busy, more threads per worker mostly switch and wait. On 2 cores,
        # 2 workers, two servers loaded in the same alternating slices: 2 threads per worker served 0.90x the
        # top-10s/s and 0.96x the point lookups/s of 1 thread. More threads do speed up one big answer on an
        # idle server (1,000,000 rows as JSON: 0.92 s with 1, 0.56 s with 2): set SLUICE_DUCKDB_THREADS for that.
        os.environ["SLUICE_DUCKDB_THREADS"] = str(max(1, multiprocessing.cpu_count() // server.num_workers))


def child_exit(server, worker):
    from serving.metrics import mark_worker_dead

    SluiceWorker.board.release(worker.age)
    mark_worker_dead(worker.pid)
