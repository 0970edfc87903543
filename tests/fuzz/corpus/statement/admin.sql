CREATE COLLECTION docs (DIMENSION 2) WITH (m = 8, ef_search = 16, quantization = 'int8');
INSERT INTO docs (id, vector, edges) VALUES ('b', [1, 0], []), ('a', [0, 1], [{"label": "x", "target": "b"}]);
SHOW INDEXES ON docs; ANALYZE docs; SHOW TENANTS; SHOW TIMESTAMP; VERIFY;
SELECT * FROM traverse('docs', 'a', max_hops = 2) LIMIT 5;
SELECT * FROM shortest_path('docs', 'a', 'b', direction = 'both');
SELECT * FROM paths('docs', 'a'); SELECT * FROM degree('docs', 'a'); SELECT * FROM edges('docs', 'b', direction = 'in');
BEGIN READ ONLY; SELECT id FROM docs; ROLLBACK;
