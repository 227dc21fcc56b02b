-- @materialize: true
SELECT 'top-secret' AS s
