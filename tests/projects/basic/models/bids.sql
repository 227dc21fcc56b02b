-- @materialize: true
SELECT * FROM (VALUES
  (1, 'a.com', 'Google', 10),
  (2, 'a.com', 'Yahoo', 20),
  (3, 'b.com', 'Google', 30),
  (4, 'x'' OR ''1''=''1', 'Evil', 40)
) AS t(id, domain, publisher, volume)
