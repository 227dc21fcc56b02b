-- @materialize: true
SELECT * FROM read_csv('data/numbers.csv')
