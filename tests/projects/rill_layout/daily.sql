-- A root-level SQL file is a model too
SELECT publisher, sum(bids) AS bids FROM bids_model GROUP BY publisher
