-- @materialize: true
SELECT range AS n, hash(range) % 1000003 AS k FROM range(400000)
