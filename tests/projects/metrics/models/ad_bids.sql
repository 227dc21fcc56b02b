SELECT publisher, domain, volume, impressions, clicks, CAST("timestamp" AS TIMESTAMP) AS "timestamp"
FROM read_csv('data/ad_bids.csv', header = true)
