SELECT a.id, b.id, c.id FROM MATCH (a:docs)-[:cites]->(b)<-[e*1..2]-(c) WHERE a.id = 'd1' AND c.metadata.year > 2000;
SELECT count(*) FROM MATCH (a:docs)-[:cites]-(b)-[:cites]->(c)-[]->(d) WHERE b.id = 'd3' AND d.id IN ('d1', 'd2') ORDER BY c.vector <-> [0.1, 0.2, 0.3, 0.4] LIMIT 3;
EXPLAIN ANALYZE SELECT * FROM MATCH (a)-[:cites]->(b:docs)-[:cites]->(c) WHERE a.id = 'd1' AND c.id = 'd1';
