-- A list column for unnest dimensions (Rill's metrics_array_unnest_filter test has the same shape)
SELECT * FROM (VALUES
    (1, 'alice', ['sql', 'duckdb'], 10),
    (2, 'bob', ['sql'], 20),
    (3, 'alice', ['go'], 5),
    (4, 'carol', [], 7)
) AS posts(id, author, tags, views)
