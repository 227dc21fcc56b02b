"""The floor of the stack: a Werkzeug app that answers one small JSON row without any work, served by
bench_server.py under the shipped gunicorn configuration. What it costs per request is what gunicorn and
Werkzeug cost any app served this way, before it does anything."""

from werkzeug.wrappers import Request, Response

BODY = (
    b'[{"id":1,"bid_time":"2024-01-01T00:00:01Z","publisher":"Google","domain":"site0.com","bid_price":1.5}]'
)


@Request.application
def app(request):
    return Response(BODY, mimetype="application/json")
