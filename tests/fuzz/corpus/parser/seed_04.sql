SELECT id, metadata.year, vector <=> [0.1, 0.2, 0.3, 0.4] AS distance
  FROM docs WHERE metadata.category = 'tech' AND metadata.year >= 2020
  ORDER BY distance LIMIT 10;