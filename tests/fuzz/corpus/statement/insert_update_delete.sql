INSERT INTO docs (id, vector, metadata) VALUES ('n1', [1, 2, 3, 4], {"year": 1999});
UPDATE docs SET metadata.year = 2000, metadata.extra = {"a": [1, 2]} WHERE id = 'n1';
DELETE FROM docs WHERE metadata.year < 2001;
SELECT count(*) FROM docs;