"""The SQL checker: where caller values may go, what they become, and which statements may run."""

import pytest

import project.sql.binding
from project.errors import ArgumentError, QueryError
from project.sql.binding import bind_sql, shape_cache_info, typed_value
from project.sql.sentinels import marker


def shape(template: str, count: int) -> str:
    return template.format(*(marker(index) for index in range(count)))


BOUND = [
    # (SQL with {0}.. for values, values, expected SQL, expected parameters)
    ("SELECT * FROM t WHERE d = '{0}'", ["x' OR '1'='1"], "SELECT * FROM t WHERE d = ?", ["x' OR '1'='1"]),
    ("SELECT * FROM t WHERE q LIKE '%{0}%'", ["50%"], "SELECT * FROM t WHERE q LIKE ?", ["%50%%"]),
    ("SELECT * FROM t WHERE d = 'it''s {0}'", ["x"], "SELECT * FROM t WHERE d = ?", ["it's x"]),
    ("SELECT * FROM t WHERE id = {0}", ["5"], "SELECT * FROM t WHERE id = ?", [5]),
    (
        "SELECT * FROM t WHERE p > {0}",
        ["1.50"],
        "SELECT * FROM t WHERE p > ?",
        [__import__("decimal").Decimal("1.50")],
    ),
    ("SELECT * FROM t WHERE p > {0}", ["1e3"], "SELECT * FROM t WHERE p > ?", [1000.0]),
    ("SELECT * FROM t WHERE b = {0}", ["TRUE"], "SELECT * FROM t WHERE b = ?", [True]),
    ("SELECT * FROM t WHERE b IS {0}", ["null"], "SELECT * FROM t WHERE b IS ?", [None]),
    ("SELECT * FROM t LIMIT {0}", ["1; DROP TABLE t"], "SELECT * FROM t LIMIT ?", ["1; DROP TABLE t"]),
    ("SELECT * FROM t LIMIT {0} OFFSET {1}", ["10", "20"], "SELECT * FROM t LIMIT ? OFFSET ?", [10, 20]),
    ("SELECT * FROM t WHERE x IN ({0}, '{1}')", ["1", "a"], "SELECT * FROM t WHERE x IN (?, ?)", [1, "a"]),
    (
        "SELECT * FROM t WHERE x BETWEEN {0} AND {1}",
        ["1", "2"],
        "SELECT * FROM t WHERE x BETWEEN ? AND ?",
        [1, 2],
    ),
    ("SELECT upper('{0}') AS u", ["a"], "SELECT upper(?) AS u", ["a"]),
    ("SELECT a FROM t ORDER BY {0}", ["publisher"], 'SELECT a FROM t ORDER BY "publisher"', []),
    ("SELECT {0} FROM t GROUP BY {1}", ["domain", "domain"], 'SELECT "domain" FROM t GROUP BY "domain"', []),
    ('SELECT "{0}" FROM t', ['we"ird'], 'SELECT "we""ird" FROM t', []),
    (
        "SELECT * FROM t WHERE a = '{0}' -- trailing comment",
        ["x"],
        "SELECT * FROM t WHERE a = ? -- trailing comment",
        ["x"],
    ),
    ("SELECT * FROM t WHERE a = '{0}{1}'", ["x", "y"], "SELECT * FROM t WHERE a = ?", ["xy"]),
    # sort directions, any case; empty means the default order, as pasting nothing would
    ("SELECT a FROM t ORDER BY a {0}", ["desc"], "SELECT a FROM t ORDER BY a DESC", []),
    ("SELECT a FROM t ORDER BY a {0}", [" Asc "], "SELECT a FROM t ORDER BY a ASC", []),
    ("SELECT a FROM t ORDER BY {0} {1}, b", ["a", "DESC"], 'SELECT a FROM t ORDER BY "a" DESC, b', []),
    (
        "SELECT a FROM t ORDER BY a {0} NULLS LAST LIMIT 5",
        ["desc"],
        "SELECT a FROM t ORDER BY a DESC NULLS LAST LIMIT 5",
        [],
    ),
    (
        'SELECT a FROM t ORDER BY f(a) {0}, "b" {1}',
        ["desc", "asc"],
        'SELECT a FROM t ORDER BY f(a) DESC, "b" ASC',
        [],
    ),
    (
        "SELECT row_number() OVER (ORDER BY a {0}) AS r FROM t",
        ["desc"],
        "SELECT row_number() OVER (ORDER BY a DESC) AS r FROM t",
        [],
    ),
    ("SELECT a FROM t ORDER BY a {0}", [""], "SELECT a FROM t ORDER BY a ", []),
    # typed literals take a parenthesised parameter, which DuckDB accepts there
    ("SELECT INTERVAL '{0} days' AS i", ["3"], "SELECT INTERVAL (?) AS i", ["3 days"]),
    ("SELECT DATE '{0}' AS d", ["2024-01-01"], "SELECT DATE (?) AS d", ["2024-01-01"]),
    ("SELECT '{0}'::DATE AS d", ["2024-01-01"], "SELECT (?)::DATE AS d", ["2024-01-01"]),
    ("SELECT INTERVAL {0} DAY AS i", ["3"], "SELECT INTERVAL (?) DAY AS i", [3]),
    # value positions: CASE, function arguments, IN lists, squoted values
    (
        "SELECT CASE WHEN a = {0} THEN {1} ELSE 'z' END FROM t",
        ["1", "y"],
        "SELECT CASE WHEN a = ? THEN ? ELSE 'z' END FROM t",
        [1, "y"],
    ),
    ("SELECT * FROM t WHERE a = abs({0})", ["-3"], "SELECT * FROM t WHERE a = abs(?)", [-3]),
    ("SELECT * FROM t WHERE a = {0}", ["'it''s'"], "SELECT * FROM t WHERE a = ?", ["it's"]),
    (
        "SELECT * FROM t WHERE a = {0}",
        ["\u0661"],
        "SELECT * FROM t WHERE a = ?",
        ["\u0661"],
    ),  # ASCII digits only
    ("SELECT total_{0} FROM t", ["bids"], 'SELECT "total_bids" FROM t', []),
    ('SELECT * FROM "{0}"', ["bids"], 'SELECT * FROM "bids"', []),
    ("SELECT * FROM t WHERE a = '{0}';", ["x"], "SELECT * FROM t WHERE a = ? ", ["x"]),
    (
        "SELECT 'a\\' AS x, '{0}' AS y",
        ["z"],
        "SELECT 'a\\' AS x, ? AS y",
        ["z"],
    ),  # a backslash escapes nothing
    (
        "SELECT 1 AS x -- {0}",
        ["\nUNION SELECT 2"],
        "SELECT 1 AS x -- __sluice_arg_0__",
        [],
    ),  # comments stay text
]


@pytest.mark.parametrize("template, values, expected_sql, expected_params", BOUND)
def test_caller_values_become_parameters(template, values, expected_sql, expected_params):
    sources = [f"args.a{index}" for index in range(len(values))]
    sql, params = bind_sql(shape(template, len(values)), values, sources)
    assert (sql, params) == (expected_sql, expected_params)


REFUSED = [
    # (SQL, values, error class, message part)
    (
        "SELECT * FROM t ORDER BY {0}",
        ["a; DROP TABLE t"],
        ArgumentError,
        'argument "a0" must be a plain name',
    ),
    ("SELECT * FROM t ORDER BY {0}", ["a b"], ArgumentError, "plain name"),
    ("SELECT {0}{1} FROM t", ["a", "b"], ArgumentError, 'argument "a0" cannot be used there'),
    ("SELECT * FROM read_csv('{0}')", ["/etc/passwd"], ArgumentError, "file and table functions"),
    ("SELECT * FROM read_parquet({0})", ["x"], ArgumentError, "file and table functions"),
    ("SELECT * FROM '{0}.csv'", ["data/x"], ArgumentError, "cannot be used there"),
    ("SELECT * FROM t; DROP TABLE t", [], QueryError, "exactly one SQL statement"),
    ("DROP TABLE t", [], QueryError, "only read-only queries are allowed, not DROP"),
    ("INSERT INTO t VALUES (1)", [], QueryError, "only read-only"),
    ("COPY t TO 'x.csv'", [], QueryError, "only read-only"),
    ("ATTACH 'x.db'", [], QueryError, "only read-only"),
    ("SET threads = 1", [], QueryError, "only read-only"),
    ("PRAGMA version", [], QueryError, "only read-only"),
    ("INSTALL httpfs", [], QueryError, "only read-only"),
    ("CALL pragma_version()", [], QueryError, "only read-only"),
    ("SELECT * FROM t WHERE", [], QueryError, "SQL syntax error"),
    ("SELECT * FROM t ORDER BY a DESC {0}", ["desc"], QueryError, "{{ .args.a0 }}"),  # syntax errors name it
    # sort directions: only asc or desc
    (
        "SELECT * FROM t ORDER BY a {0}",
        ["desc; DROP TABLE t"],
        ArgumentError,
        'argument "a0" must be asc or desc',
    ),
    ("SELECT * FROM t ORDER BY a {0}", ["ASC, (SELECT 1)"], ArgumentError, "must be asc or desc"),
    ("SELECT * FROM t ORDER BY a {0}", ["descending"], ArgumentError, "must be asc or desc"),
    ("SELECT * FROM t ORDER BY a {0}", ["asc nulls first"], ArgumentError, "must be asc or desc"),
    # statements refused by their first word, even where sqlglot cannot parse them
    ("EXPORT DATABASE 'x'", [], QueryError, "only read-only queries are allowed, not EXPORT"),
    ("IMPORT DATABASE 'x'", [], QueryError, "only read-only queries are allowed, not IMPORT"),
    ("CHECKPOINT", [], QueryError, "only read-only queries are allowed, not CHECKPOINT"),
    ("VACUUM", [], QueryError, "only read-only queries are allowed, not VACUUM"),
    ("CREATE SECRET (TYPE s3)", [], QueryError, "only read-only queries are allowed, not CREATE"),
    ("DETACH x", [], QueryError, "only read-only queries are allowed, not DETACH"),
    ("LOAD httpfs", [], QueryError, "only read-only queries are allowed, not LOAD"),
    ("RESET threads", [], QueryError, "only read-only queries are allowed, not RESET"),
    ("USE memory", [], QueryError, "only read-only queries are allowed, not USE"),
    ("TRUNCATE t", [], QueryError, "only read-only queries are allowed, not TRUNCATE"),
    (
        "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
        [],
        QueryError,
        "only read-only queries are allowed",
    ),
    ("SELECT 1; SELECT 2", [], QueryError, "exactly one SQL statement, got 2"),
    # file names and SQL text never come from a caller
    (
        'SELECT * FROM "{0}"',
        ["data/x.csv"],
        ArgumentError,
        'argument "a0" must be a table name, not a file path',
    ),
    ("SELECT * FROM query('{0}')", ["SELECT 1"], ArgumentError, "file and table functions"),
    ("SELECT * FROM read_text(['{0}'])", ["x"], ArgumentError, "file and table functions"),
    ("SELECT json_execute_serialized_sql('{0}')", ["x"], ArgumentError, "file and table functions"),
    # names built from one value and project text stay one plain name
    ("SELECT total_{0} FROM t", ["x; DROP TABLE t"], ArgumentError, "plain name"),
    ("SELECT {0}(a) FROM t", ["upper"], ArgumentError, 'argument "a0" cannot be used there'),
    ("SELECT * FROM t WHERE a = E'{0}'", ["x"], ArgumentError, "cannot be used there"),
    ("SELECT * FROM t WHERE a = '__sluice_arg_7__'", [], QueryError, "text reserved for arguments"),
    ('SELECT "{0}" FROM t', ["a\x00b"], ArgumentError, "NUL"),
    (
        "SELECT $${0}$$ AS x",
        ["x"],
        ArgumentError,
        "cannot be used there",
    ),  # dollar-quoted: not a plain literal
    ("SELECT * FROM t ORDER BY a {0} {1}", ["desc", "x"], QueryError, "SQL syntax error"),
]


@pytest.mark.parametrize("template, values, error, message", REFUSED)
def test_refused_statements_and_positions(template, values, error, message):
    sources = [f"args.a{index}" for index in range(len(values))]
    with pytest.raises(error) as caught:
        bind_sql(shape(template, len(values)), values, sources)
    assert message in caught.value.message


@pytest.mark.parametrize(
    "text, value",
    [
        ("42", 42),
        ("-7", -7),
        ("3.25", __import__("decimal").Decimal("3.25")),
        ("2e2", 200.0),
        ("true", True),
        ("False", False),
        ("NULL", None),
        ("abc", "abc"),
        ("1 OR 1=1", "1 OR 1=1"),
        ("", ""),
    ],
)
def test_bare_values_mean_what_they_would_pasted(text, value):
    assert typed_value(text) == value


def test_a_warm_request_neither_tokenizes_nor_parses(monkeypatch):
    """The shape is checked once; later requests with other values are a cache lookup plus binding."""
    template = shape("SELECT a FROM t WHERE b = '{0}' ORDER BY {1} {2} LIMIT {3}", 4)
    sources = ["args.b", "args.col", "args.dir", "args.n"]
    bind_sql(template, ["x", "a", "asc", "1"], sources)
    before = shape_cache_info()

    def fail(*_args, **_kwargs):
        raise AssertionError("tokenized or parsed again")

    monkeypatch.setattr(project.sql.binding, "_tokenize", fail)
    monkeypatch.setattr(project.sql.binding.sqlglot, "parse", fail)
    assert bind_sql(template, ["y' OR 1=1", "b", "DESC", "5"], sources) == (
        'SELECT a FROM t WHERE b = ? ORDER BY "b" DESC LIMIT ?',
        ["y' OR 1=1", 5],
    )
    after = shape_cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)


def test_a_refused_shape_is_refused_from_the_cache(monkeypatch):
    template = shape("SELECT * FROM read_csv('{0}')", 1)
    for _attempt in range(2):
        with pytest.raises(ArgumentError, match="file and table functions"):
            bind_sql(template, ["/etc/passwd"], ["args.f"])
        monkeypatch.setattr(project.sql.binding, "_tokenize", lambda *_: pytest.fail("compiled again"))
