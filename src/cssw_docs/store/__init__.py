"""The SQLite ledger: the connection, the whole schema and its migrations, the queries by table."""
