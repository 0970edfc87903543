UPDATE docs SET edges = [{"label": "x", "target": "d2"}] WHERE metadata.category = 'tech';
UPDATE docs SET vector = NULL WHERE id = 'd4';