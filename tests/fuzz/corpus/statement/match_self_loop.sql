SELECT a.id, b.id FROM MATCH (a:docs)-[:cites]->(b) WHERE a.id = 'd1';
SELECT b.id FROM MATCH (a:docs)-[:cites*1..3]->(b) WHERE a.id = 'd3';