"""Sprig's URL functions (Go's net/url), hello, fail and getHostByName."""

from __future__ import annotations

import random
import re
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .sprig_lists import go_kind

SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
UNRESERVED = "-_.~"


def unescape(text: str, whole: str) -> str:
    """url.PathUnescape-like decoding with Go's error for a bad escape."""
    out, index, data = bytearray(), 0, text.encode()
    while index < len(data):
        if data[index] == 0x25:
            chunk = data[index : index + 3]
            if len(chunk) < 3 or not all(chr(c) in "0123456789abcdefABCDEF" for c in chunk[1:]):
                raise ValueError(
                    f'unable to parse url: parse "{whole}": invalid URL escape "{chunk.decode(errors="replace")}"'
                )
            out.append(int(chunk[1:].decode(), 16))
            index += 3
        else:
            out.append(data[index])
            index += 1
    return out.decode(errors="replace")


def url_parse(text: str) -> dict:
    """`urlParse`: scheme, host, hostname, path, query, opaque, fragment and userinfo of a URL."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise ValueError(f'unable to parse url: parse "{text}": net/url: invalid control character in URL')
    rest, _, fragment = text.partition("#")
    scheme = ""
    found = SCHEME.match(rest)
    if found and rest[found.end() : found.end() + 1] == ":":
        scheme, rest = found.group().lower(), rest[found.end() + 1 :]
    elif rest.startswith(":"):
        raise ValueError(f'unable to parse url: parse "{text}": missing protocol scheme')
    rest, _question, query = rest.partition("?")
    result = {
        "scheme": scheme,
        "host": "",
        "hostname": "",
        "path": "",
        "query": query,
        "opaque": "",
        "fragment": unescape(fragment, text),
        "userinfo": "",
    }
    if scheme and not rest.startswith("/"):
        result["opaque"] = rest
        return result
    if not scheme and ":" in rest.split("/", 1)[0]:
        raise ValueError(
            f'unable to parse url: parse "{text}": first path segment in URL cannot contain colon'
        )
    if rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        user, at, host = authority.rpartition("@")
        if at:
            result["userinfo"] = user
        result["host"] = host
        result["hostname"] = hostname(host)
    result["path"] = unescape(rest, text)
    return result


def hostname(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if ":" in host else host


def dict_text(mapping: dict, key: str) -> str:
    value = mapping.get(key, "")
    if not isinstance(value, str):
        raise TypeError(f"unable to parse {key} key, must be of type string, but {go_kind(value)} found")
    return value


def url_join(mapping: dict) -> str:
    """`urlJoin`: the URL of a dict like urlParse's (Go's URL.String)."""
    scheme, host, path = dict_text(mapping, "scheme"), dict_text(mapping, "host"), dict_text(mapping, "path")
    query, opaque, fragment = (
        dict_text(mapping, "query"),
        dict_text(mapping, "opaque"),
        dict_text(mapping, "fragment"),
    )
    userinfo = dict_text(mapping, "userinfo")
    out = scheme + ":" if scheme else ""
    if opaque:
        out += opaque
    else:
        if scheme or host or userinfo:
            if host or path or userinfo:
                out += "//"
            if userinfo:
                out += userinfo + "@"
            out += host
        escaped = quote(path, safe="/$&+,:;=@!'()*" + UNRESERVED)
        if escaped and not escaped.startswith("/") and host:
            out += "/"
        if not out and ":" in escaped.split("/", 1)[0]:
            out += "./"
        out += escaped
    if query:
        out += "?" + query
    if fragment:
        out += "#" + quote(fragment, safe="/$&+,:;=@!'()*?" + UNRESERVED)
    return out


def hello() -> str:
    return "Hello!"


def fail(message: str) -> str:
    raise ValueError(message)


def get_host_by_name(name: str) -> str:
    """`getHostByName`: one of the host's addresses (a random one, as Sprig)."""
    try:
        addresses = sorted({str(info[4][0]) for info in socket.getaddrinfo(name, None)})
    except OSError:
        addresses = []
    if not addresses:
        raise ValueError("runtime error: index out of range [0] with length 0")
    return random.choice(addresses)


MISC: dict[str, Callable] = {
    "urlParse": url_parse,
    "urlJoin": url_join,
    "hello": hello,
    "fail": fail,
    "getHostByName": get_host_by_name,
}
_ = Any
