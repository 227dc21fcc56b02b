"""The scenarios' queries as the baseline runs them (bound parameters), and their parameters per request."""

import random

DOMAINS = [f"site{number}.com" for number in range(20)]
QUERIES = {
    "lookup": ("SELECT * FROM bids WHERE id = ?", lambda args: [int(args["id"])]),
    "top10": (
        (
            "SELECT publisher, count(*) AS bids, sum(impressions) AS impressions FROM bids WHERE domain = ? "
            "GROUP BY publisher ORDER BY bids DESC LIMIT 10"
        ),
        lambda args: [args["domain"]],
    ),
    "rows": ("SELECT * FROM bids LIMIT ?", lambda args: [int(args["count"])]),
}


def scenario_api(name: str) -> str:
    """The API (and query) a scenario calls: the warm top-10 calls the top-10 again."""
    return "top10" if name == "top10_warm" else name


def scenario_queries(name: str, rows: int) -> tuple[str, list[list]]:
    """The scenario's SQL, as the baseline runs it, and the bound parameters of each of its requests."""
    sql, params_of = QUERIES[scenario_api(name)]
    return sql, [params_of(args) for args in scenario_args(name, rows)]


def scenario_args(name: str, rows: int) -> list[dict[str, str]]:
    """The arguments of the requests a scenario makes, as the query string holds them."""
    if name == "lookup":
        return [{"id": str(random.Random(i).randrange(rows))} for i in range(500)]
    if name in ("top10", "top10_warm"):
        return [{"domain": domain} for domain in DOMAINS]
    return [{"count": "100000"}]
