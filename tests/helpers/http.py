"""HTTP calls to a real server, answered in the shape of a Werkzeug test response."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field


@dataclass
class Reply:
    """An HTTP answer shaped like a Werkzeug test response, so `assert_error` checks it too."""

    status_code: int
    headers: dict[str, str]
    body: bytes = field(repr=False)

    def get_data(self, as_text: bool = False):
        return self.body.decode() if as_text else self.body

    def json(self):
        return json.loads(self.body)


def fetch(
    base: str, path: str, headers: dict | None = None, method: str = "GET", data: bytes | None = None
) -> Reply:
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())
