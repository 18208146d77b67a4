"""The Postgres store (`store.url: postgresql://…`): psycopg 3 with a pool, its own migrations,
tsvector search and pgvector (see docs/design.md, "Storage")."""
