SELECT "select", "we""ird" FROM "my docs" -- trailing comment
