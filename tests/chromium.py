"""A real headless Chromium driven over the DevTools protocol through a pipe (no WebSocket library needed).

`--remote-debugging-pipe` makes Chromium read protocol messages from fd 3 and write replies to fd 4, each a
JSON object ended by a NUL byte. Tests open a page, run JavaScript in it and wait for what it shows.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]
REPLY_SECONDS = 60
# Run in a small Python process that puts the pipe's ends on fds 3 and 4, then becomes Chromium.
ONTO_PROTOCOL_FDS = "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); os.execv(sys.argv[3], sys.argv[3:])"


class BrowserError(AssertionError):
    """The browser answered a command with an error, stopped answering, or a page never showed something."""


class Chromium:
    """One browser process and the protocol connection to it."""

    def __init__(self, profile: str) -> None:
        to_browser, self._commands = os.pipe()
        self._replies, from_browser = os.pipe()
        # Above 9, so that putting one on fd 3 or 4 cannot overwrite the other.
        reads, writes = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser))
        for fd in (to_browser, from_browser):
            os.close(fd)
        self.process = subprocess.Popen(
            [sys.executable, "-c", ONTO_PROTOCOL_FDS, str(reads), str(writes), CHROMIUM, *FLAGS]
            + [f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(reads, writes),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(reads)
        os.close(writes)
        self._buffer = b""
        self._last_id = 0

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and return its result (events arriving meanwhile are dropped)."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        return self._reply(self._last_id, method)

    def _reply(self, wanted: int, method: str) -> dict:
        deadline = time.monotonic() + REPLY_SECONDS
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if message.get("id") == wanted:
                    if "error" in message:
                        raise BrowserError(f"{method}: {message['error']}")
                    return message["result"]
            ready, _, _ = select.select([self._replies], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise BrowserError(f"{method}: no reply from the browser")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise BrowserError(f"{method}: the browser closed the connection")
            self._buffer += chunk

    def close(self) -> None:
        for fd in (self._commands, self._replies):
            os.close(fd)
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Page:
    """One tab: navigate, evaluate JavaScript, wait until an expression holds."""

    def __init__(self, browser: Chromium) -> None:
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})
        attached = browser.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        self.session = attached["sessionId"]

    def open(self, url: str) -> None:
        self.browser.send("Page.navigate", {"url": url}, self.session)
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited); a thrown error fails."""
        reply = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            self.session,
        )
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression[:200]}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 60) -> Any:
        """Evaluate until the expression is truthy and return its value; a bound, not a measurement."""
        deadline = time.monotonic() + seconds
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                raise BrowserError(f"never true: {expression}\npage text:\n{str(text)[:3000]}")
            time.sleep(0.1)


@contextlib.contextmanager
def chromium_page(profile: str) -> Iterator[Page]:
    """A fresh headless Chromium with one tab, closed afterwards."""
    browser = Chromium(profile)
    try:
        yield Page(browser)
    finally:
        browser.close()
