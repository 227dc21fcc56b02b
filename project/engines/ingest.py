"""Models read from a connector into DuckDB (as Rill's connector models do): the model's SQL runs on its
engine in a read-only session and the answer streams into a DuckDB table as Arrow record batches, so a
project can ingest from an engine once and serve from DuckDB. The build's fingerprint covers the model's
SQL, not the engine's data: a changed model (or `touch`ing it) ingests again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from project.engines.duckdb import BuiltModel, Ingest, IngestError
from project.engines.interface import Engine
from project.errors import SluiceError

BATCH_ROWS = 65_536


def ingest_from(engines: Mapping[str, Engine | None]) -> Ingest:
    """The build's hook for models with `connector:`: run on the engine, store what it answers."""

    def ingest(model: BuiltModel, store: Callable[[Any], None]) -> None:
        engine = engines.get(model.connector or "")
        if engine is None:
            raise IngestError(f'connector "{model.connector}" not found')
        try:
            session = engine.session()
        except SluiceError as error:
            raise IngestError(error.message) from None
        try:
            store(session.arrow_reader(model.sql, engine.style.params([]), "arrow", BATCH_ROWS))
        except SluiceError as error:
            raise IngestError(error.message) from None
        except Exception as error:
            translated = session.translate_error(error, 0)
            if isinstance(translated, SluiceError):
                raise IngestError(translated.message) from None
            raise
        finally:
            session.close()

    return ingest
