INSERT INTO docs (id, vector, metadata, edges) VALUES
  ('d2', [0.5, 0.6, 0.7, 0.8], {"category": "science", "year": 2019},
   [{"label": "related_to", "target": "d1", "weight": 0.8}]);