-- @materialize: true
SELECT * FROM (VALUES (1, 'de', 2.5), (2, 'fr', 4.0)) AS t(id, country, amount)
