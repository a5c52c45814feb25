"""The OpenAlex snapshot as a source: every catalog dataset's citers in one pass over all works.

`find_citers` (citers.py) runs the query (query.py) on DuckDB (duckdb_engine.py, the default) or
Spark (spark_engine.py) over the layout of a local or S3 snapshot (layout.py); the source
`tracer.sources.snapshot.SnapshotSource` hands what it found to the scanner like any list.
"""

from tracer.snapshot.citers import ENGINES, engine_session, find_citers
from tracer.snapshot.query import Citer, CiterQuery, SnapshotRead, SnapshotResult

__all__ = ["ENGINES", "Citer", "CiterQuery", "SnapshotRead", "SnapshotResult", "engine_session", "find_citers"]
