-- @materialize: true
SELECT * FROM (VALUES
    (1, TIMESTAMP '2022-03-28 10:00:00', 'Google', 'google.com', 2, 10),
    (2, TIMESTAMP '2022-03-28 11:00:00', 'Yahoo', 'yahoo.com', 4, 20),
    (3, TIMESTAMP '2022-03-29 09:00:00', 'Google', 'google.com', 6, 20),
    (4, TIMESTAMP '2022-03-30 12:00:00', 'Yahoo', 'yahoo.com', 8, 40),
    (5, TIMESTAMP '2022-03-30 23:00:00', 'Google', 'news.google.com', 10, 50),
    (6, TIMESTAMP '2022-03-01 08:00:00', 'Yahoo', 'yahoo.com', 1, 5)
) AS bids(id, "timestamp", publisher, domain, bids, impressions)
