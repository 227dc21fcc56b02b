SELECT id, publisher, domain, bid_price, impressions, CAST("timestamp" AS TIMESTAMP) AS "timestamp"
FROM read_csv('data/ad_bids.csv', header = true)
