SELECT publisher, country, tier, founded FROM publishers ORDER BY publisher;
