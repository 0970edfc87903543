INSERT INTO docs (id, vector) VALUES ('v', [1e39, -1e39, 0, 0]);
SELECT id FROM docs ORDER BY vector <-> [1, 2] LIMIT 0;