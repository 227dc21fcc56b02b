-- @materialize: true
SELECT error('booom!') AS v
