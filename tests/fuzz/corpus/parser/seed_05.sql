SELECT b.id, b.metadata.category FROM MATCH (a:docs)-[:related_to*1..2]->(b:docs)
  WHERE a.id = 'd2' ORDER BY b.vector <-> [0.1, 0.2, 0.3, 0.4] LIMIT 5;