"""Domain errors of the project package: each carries a message for the user and, where known, a place."""

from __future__ import annotations


class SluiceError(Exception):
    """Root of the errors Sluice reports to callers; `message` is safe to show."""

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def __str__(self) -> str:
        place = ":".join(str(part) for part in (self.path, self.line, self.column) if part is not None)
        return f"{place}: {self.message}" if place else self.message


class ProjectError(SluiceError):
    """A project file that cannot be loaded (YAML, unknown type, template syntax, model SQL, ...)."""


class SettingsError(SluiceError):
    """A setting that cannot be used (`SLUICE_PORT=abc`, an allowed directory that contains the project):
    the server does not start."""


class BuildError(ProjectError):
    """The database could not be built (a full disk, an unwritable state dir): nothing is served from it."""


class QueryError(SluiceError):
    """A request whose query cannot run: template error at request time, SQL error, metrics SQL error."""


class ProjectQueryError(QueryError):
    """A query that failed by a project file's fault (template runtime error, SQL the engine refuses): a 400
    as in Rill, placed in the API's file, and logged as the project's error for operators to alert on."""


class UnknownNameError(QueryError):
    """The query names a table, view, column or function the engine does not know (DuckDB's Catalog Error)."""


class ArgumentError(SluiceError):
    """A caller's arguments are wrong: bad body, a value that would change the query, schema violations."""

    def __init__(self, message: str, *, details: list[dict] | None = None, **place) -> None:
        super().__init__(message, **place)
        self.details = details or []


class NotFoundError(SluiceError):
    """An unknown API, instance, organisation or project."""


class ResultCapError(SluiceError):
    """The answer has more rows than the row cap allows; `hint` says how to get them (SPEC fixes the message)."""

    hint = (
        "page the query (LIMIT/OFFSET), or raise the cap: max_rows: in the API's file (0: no cap), "
        "the variable rill.interactive_sql_row_limit in rill.yaml, or the server's --row-cap (SLUICE_ROW_CAP)"
    )


class TooLargeError(SluiceError):
    """A caller's request would make more work than a limit allows (SQL too long to parse): a 413."""


class QueryTimeoutError(SluiceError):
    """The query ran longer than the configured timeout."""


class BrokenApiError(SluiceError):
    """The API exists but failed to load; calls get its load error."""


class AccessDeniedError(SluiceError):
    """A valid caller without access to the resource."""


class AuthenticationError(SluiceError):
    """No, malformed or invalid credentials."""


class OverloadedError(SluiceError):
    """The server has no capacity for the request right now."""


class NotAcceptableError(SluiceError):
    """The caller accepts none of the formats offered."""


class EngineUnavailableError(SluiceError):
    """A connector's engine cannot be reached (down, refusing connections): the message names the connector,
    never its credentials."""


class ProjectUnavailableError(SluiceError):
    """No project has loaded yet (its folder is missing, rill.yaml is broken, the build failed): every API
    answers 503 until one loads."""
