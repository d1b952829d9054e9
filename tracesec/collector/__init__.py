"""The reference analysis service (``tracesec collector``): ingest, storage and the query API."""
