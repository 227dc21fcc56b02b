SELECT count(*) AS models FROM (SELECT 1 FROM bids_model UNION ALL SELECT 1 FROM daily)
