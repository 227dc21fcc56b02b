"""The answer formats (SPEC §3.5): JSON by default, NDJSON, CSV, Parquet and Arrow IPC stream.

A format is chosen by a suffix on the API name (`top_publishers.csv`) or by the `Accept` header. JSON and
NDJSON are rows of JSON text written by DuckDB (or, for small answers, Python); the others are written by
pyarrow from DuckDB's Arrow record batches.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    """One answer format: its name (also the URL suffix), media type and how it is sent."""

    name: str
    media_type: str
    arrow: bool  # written by pyarrow from record batches (else: JSON text rows)
    compressed: bool = False  # already compressed: gzip would only cost time
    download: bool = False  # sent with a file name (Content-Disposition)

    @property
    def content_type(self) -> str:
        if self.name == "csv":
            return "text/csv; charset=utf-8; header=present"
        return self.media_type


JSON = Format("json", "application/json", arrow=False)
FORMATS: dict[str, Format] = {
    "json": JSON,
    "ndjson": Format("ndjson", "application/x-ndjson", arrow=False),
    "csv": Format("csv", "text/csv", arrow=True, download=True),
    "parquet": Format(
        "parquet", "application/vnd.apache.parquet", arrow=True, compressed=True, download=True
    ),
    "arrow": Format("arrow", "application/vnd.apache.arrow.stream", arrow=True, download=True),
}
MEDIA_TYPES = {format_.media_type: format_ for format_ in FORMATS.values()}


def split_suffix(name: str) -> tuple[str, Format | None]:
    """`top.csv` -> (`top`, CSV); a name without a known suffix -> (name, None)."""
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and suffix in FORMATS:
        return stem, FORMATS[suffix]
    return name, None


def offered() -> str:
    """The formats offered, for a 406 message and the docs."""
    return ", ".join(f"{format_.media_type} (.{name})" for name, format_ in FORMATS.items())
