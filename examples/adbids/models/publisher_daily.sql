-- Daily totals per publisher: a view over the two models above.
SELECT
  b.publisher,
  p.tier,
  date_trunc('day', b.bid_time)::DATE AS day,
  count(*) AS bids,
  sum(b.impressions) AS impressions,
  avg(b.bid_price)::DOUBLE AS avg_bid_price
FROM ad_bids AS b
LEFT JOIN publishers AS p ON p.publisher = b.publisher
GROUP BY ALL
