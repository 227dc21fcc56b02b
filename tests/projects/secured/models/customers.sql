SELECT * FROM (VALUES
  (1, 'acme', 'acme.com', 100),
  (2, 'globex', 'globex.com', 200),
  (3, 'o''brien', 'obrien.ie', 300)
) AS t(id, customer_id, domain, revenue)
