SELECT 'from the .sql file' AS source
