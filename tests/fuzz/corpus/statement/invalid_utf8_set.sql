UPDATE docs SET metadata.k = 'ÿþ';
SELECT id FROM docs WHERE metadata.k = 'Ã(';