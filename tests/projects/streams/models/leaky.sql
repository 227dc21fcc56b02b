-- A materialized model whose build error quotes data.
-- @materialize: true
SELECT 'ssn-123-45-6789'::INTEGER AS x
