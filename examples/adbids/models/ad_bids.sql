-- @materialize: true
-- 100,000 ad bids over January 2024, generated from range() so every run has the same data.
SELECT
  i AS id,
  TIMESTAMP '2024-01-01 00:00:00' + to_seconds((i * 26) % 2678400) AS bid_time,
  ['Google', 'Facebook', 'Microsoft', 'Yahoo', 'Apple', NULL][1 + (i * i + i // 10) % 6] AS publisher,
  ['google.com', 'facebook.com', 'msn.com', 'yahoo.com', 'apple.com', 'news.com'][1 + ((i // 3) * 7 + i // 1000) % 6] AS domain,
  ['US', 'DE', 'FR', 'IN', 'BR'][1 + (i // 2 + i // 7) % 5] AS country,
  round(((i * 2654435761) % 1000) / 100.0, 2)::DECIMAL(10, 2) AS bid_price,
  1 + (i * 31) % 5 AS impressions,
  (i * 17) % 3 = 0 AS clicked
FROM range(100000) AS t(i)
