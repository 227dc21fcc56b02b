SELECT * FROM (VALUES
  (1, 'alpha', 'a', 10.5, 1.25::DECIMAL(10, 2), TIMESTAMP '2024-01-01 10:00:00', DATE '2024-01-01', true, ['x', 'y']),
  (2, 'beta', 'b', 20.0, 2.50::DECIMAL(10, 2), TIMESTAMP '2024-01-02 11:30:00', DATE '2024-01-02', false, ['y']),
  (3, 'gamma', 'a', 30.25, 3.75::DECIMAL(10, 2), TIMESTAMP '2024-01-03 12:45:00', DATE '2024-01-03', true, []),
  (4, 'delta', 'b', 40.0, 5.00::DECIMAL(10, 2), TIMESTAMP '2024-01-04 09:15:00', DATE '2024-01-04', false, ['z']),
  (5, 'epsilon', 'a', 50.5, 6.25::DECIMAL(10, 2), TIMESTAMP '2024-01-05 18:00:00', DATE '2024-01-05', true, ['x']),
  (6, 'zeta', 'b', 60.0, 7.50::DECIMAL(10, 2), TIMESTAMP '2024-01-06 08:00:00', DATE '2024-01-06', false, ['x', 'z']),
  (7, 'eta', 'a', NULL, 8.75::DECIMAL(10, 2), TIMESTAMP '2024-01-07 07:00:00', DATE '2024-01-07', true, NULL)
) AS t(id, name, kind, amount, price, happened_at, day, active, tags)
