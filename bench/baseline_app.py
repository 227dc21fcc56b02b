"""The naive baseline: a plain Werkzeug app that runs each query with bound parameters and json.dumps(fetchall()).

Run under gunicorn by bench_server.py: `BASELINE_DB=... gunicorn -w 2 'bench.baseline_app:app'`.
"""

import json
import os

import duckdb
from werkzeug.wrappers import Request, Response

from bench.queries import QUERIES

connection = duckdb.connect(os.environ["BASELINE_DB"], read_only=True)


@Request.application
def app(request):
    sql, params = QUERIES[request.path.rsplit("/", 1)[-1]]
    cursor = connection.cursor()
    result = cursor.execute(sql, params(request.args))
    names = [column[0] for column in result.description]
    rows = [dict(zip(names, row)) for row in result.fetchall()]
    cursor.close()
    return Response(json.dumps(rows, default=str), mimetype="application/json")
