-- @materialize: true
SELECT * FROM (VALUES
  (1, 'Widget', 'tools', 9.50, DATE '2024-01-01', 'ann@example.com'),
  (2, 'Gadget', 'tools', 19.00, DATE '2024-01-02', 'bob@example.com'),
  (3, 'O''Brien', 'people', 5.00, DATE '2024-01-03', 'o''brien@example.com'),
  (4, '50% off', 'deals', 1.25, DATE '2024-01-04', 'ann@example.com'),
  (5, 'under_score', 'misc', 7.00, DATE '2024-01-05', 'bob@example.com'),
  (6, 'back\slash', 'misc', 3.00, DATE '2024-01-06', 'bob@example.com'),
  (7, 'it’s curly', 'misc', 4.00, DATE '2024-01-07', 'ann@example.com'),
  (8, 'x'' OR ''1''=''1', 'evil', 6.66, DATE '2024-01-08', 'eve@example.com'),
  (9, 'Zebra', 'animals', 12.00, DATE '2024-01-09', 'ann@example.com'),
  (10, 'apple', 'food', 0.50, DATE '2024-01-10', 'bob@example.com')
) AS t(id, name, category, price, created, owner)
