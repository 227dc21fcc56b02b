"""Gunicorn settings for serving Sluice in production: `gunicorn 'server:create_app()'` from this folder.

Gunicorn reads this file from its working directory (or `-c PATH`); flags on the command line and in
`GUNICORN_CMD_ARGS` override it. Sluice's own settings stay in `SLUICE_*` variables.

Why these values:
- Threaded workers (`gthread`). A sync worker is pinned by each open connection until its timeout, so 200
  idle sockets stopped a 4-worker server cold. A gthread worker parks idle connections in a poller; a new
  connection holds a thread only until its first bytes arrive (5 s at most, then it waits in the poller
  too), so with enough threads a flood of idle sockets does not queue the real requests behind it.
- Threads are cheap while they wait; DuckDB is not. What runs queries at once is bounded separately by
  `SLUICE_MAX_QUERIES` (per process), which must stay below `threads` so that the spare threads answer
  the 503 "overloaded" (with Retry-After) at once instead of queueing.
- Short keep-alive, bounded request lines and headers. Gunicorn has no timeout for a request whose headers
  trickle in (slowloris); a buffering reverse proxy in front (see README, `deploy/nginx.conf`) does that.
"""

import multiprocessing
import os

wsgi_app = "server:create_app()"

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())  # DuckDB scales per core
threads = 128  # per worker: idle and slow connections, not queries (see SLUICE_MAX_QUERIES)
worker_connections = 1000  # open connections per worker, kept-alive ones included

timeout = 60  # a worker whose main loop stalls this long is restarted
graceful_timeout = 40  # on reload/stop, running answers get this long (the query timeout is 30 s by default)
keepalive = 5  # seconds an idle kept-alive (or never-speaking) connection stays open

limit_request_line = 8190  # the longest request line (method, path and query string)
limit_request_fields = 64  # headers per request
limit_request_field_size = 8190  # bytes per header

# A query slot per thread would let every thread run DuckDB at once and the 503 could never answer.
os.environ.setdefault("SLUICE_MAX_QUERIES", "16")


def when_ready(server):
    """Warn when the overload guard cannot fire: every thread could be running a query."""
    max_queries = int(os.environ.get("SLUICE_MAX_QUERIES", "0") or 0)
    if server.cfg.threads <= max_queries or max_queries == 0:
        server.log.warning(
            "SLUICE_MAX_QUERIES=%s with %s threads per worker: the 503 overload answer cannot fire; "
            "keep SLUICE_MAX_QUERIES below --threads",
            max_queries,
            server.cfg.threads,
        )
