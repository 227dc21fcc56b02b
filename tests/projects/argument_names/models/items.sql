-- @materialize: true
SELECT * FROM (VALUES
  (1, 'Widget', 'tools'),
  (2, 'Gadget', 'tools'),
  (3, 'O''Brien', 'people')
) AS t(id, name, category)
