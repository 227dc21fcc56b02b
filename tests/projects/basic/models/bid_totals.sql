SELECT domain, sum(volume) AS volume FROM bids GROUP BY domain
