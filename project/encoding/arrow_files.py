"""CSV, Parquet and Arrow IPC written by pyarrow from Arrow record batches, a few batches at a time.

Each writer writes into a sink that is drained after every batch, so an answer of any size streams with
the memory of one batch (Parquet: of one row group). What a batch becomes is handed on in pieces of at most
`PIECE_BYTES`, never as one block the size of the batch: blocks of a few MB, a new one per batch and each of
a different size, are what glibc's malloc keeps after they are freed (its threshold for giving memory back
rises with the largest block freed), so a worker's peak kept climbing with the answer's length (Arrow,
10,000,000 rows: +80 MB against +47 MB for 1,000,000). Small pieces of one size are reused instead.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet

# One 65,536-row Arrow batch per row group: two batches held for DuckDB's 122,880 took a 1,000,000-row
# answer's peak from +64 MB to +114 MB; fewer rows than a batch per group would make a slow, bloated file.
PARQUET_ROW_GROUP_ROWS = 65_536
# Under glibc's first threshold for blocks of their own (128 KiB), so pieces come from the reused heap
PIECE_BYTES = 64 * 1024


class _Sink:
    """A write-only file that copies what is written into pieces of `PIECE_BYTES` until `drain` takes them.

    Copied at once, not kept: pyarrow may reuse a buffer it has written (the CSV writer does)."""

    closed = False

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._piece = bytearray(PIECE_BYTES)  # the piece being filled, reused for every piece
        self._filled = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        while view:
            taken = view[: PIECE_BYTES - self._filled]
            self._piece[self._filled : self._filled + len(taken)] = taken
            self._filled += len(taken)
            view = view[len(taken) :]
            if self._filled == PIECE_BYTES:
                self._cut()
        return len(data)

    def flush(self) -> None:
        return None

    def drain(self) -> list[bytes]:
        if self._filled:
            self._cut()
        pieces, self._pieces = self._pieces, []
        return pieces

    def _cut(self) -> None:
        self._pieces.append(bytes(memoryview(self._piece)[: self._filled]))
        self._filled = 0


class BatchWriter:
    """Writes record batches of one schema in a format; `write` and `finish` return the bytes made so far, in
    pieces."""

    def __init__(self, format_name: str, schema: pa.Schema) -> None:
        self._sink = _Sink()
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._parquet = format_name == "parquet"
        self._writer = _open_writer(format_name, pa.PythonFile(self._sink, mode="w"), schema)

    def rows(self, batch: pa.RecordBatch) -> int:
        return batch.num_rows

    def write(self, batch: pa.RecordBatch) -> list[bytes]:
        if not self._parquet:
            self._writer.write_batch(batch)
            return self._sink.drain()
        self._pending.append(batch)  # a row group per batch would make a slow, bloated file
        self._pending_rows += batch.num_rows
        if self._pending_rows >= PARQUET_ROW_GROUP_ROWS:
            self._flush_row_group()
        return self._sink.drain()

    def finish(self) -> list[bytes]:
        if self._pending:
            self._flush_row_group()
        self._writer.close()
        return self._sink.drain()

    def _flush_row_group(self) -> None:
        self._writer.write_table(pa.Table.from_batches(self._pending), row_group_size=self._pending_rows)
        self._pending, self._pending_rows = [], 0


def _open_writer(format_name: str, sink: Any, schema: pa.Schema) -> Any:
    if format_name == "csv":  # RFC 4180: CRLF line ends, quotes doubled, text fields quoted
        return pa_csv.CSVWriter(sink, schema, write_options=pa_csv.WriteOptions(eol="\r\n"))
    if format_name == "parquet":
        return pa_parquet.ParquetWriter(sink, schema, compression="snappy")
    if format_name == "arrow":
        return pa.ipc.new_stream(sink, schema)
    raise ValueError(f"not an Arrow-written format: {format_name}")
