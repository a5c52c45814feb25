"""Anonymous S3 reads for the DuckDB engine: DuckDB's httpfs where it loads, else fsspec (s3fs).

`INSTALL httpfs` downloads the extension from DuckDB's own servers; the PyPI packages that carry
it (`duckdb-extension-httpfs`, `duckdb-ext-httpfs`) are built for DuckDB 1.x only, and an
extension loads only into the version it was built for. Where httpfs cannot be loaded or
installed, the bucket is read through s3fs, registered with the connection
(`DuckDBPyConnection.register_filesystem`, documented under "Using fsspec filesystems"): DuckDB
then opens, range-reads and globs `s3://` paths through it, unsigned (`anon=True`).

Settings (environment):
  TRACER_S3_ENDPOINT  an S3-compatible endpoint instead of AWS, e.g. http://127.0.0.1:9000 (a
                      mirror of the bucket, or a local test server); path-style addressing.
  TRACER_S3_VIA       httpfs | fsspec: force one route (default: httpfs when it loads, else fsspec).
"""

from __future__ import annotations

import os
import re

import duckdb

from tracer.errors import DataError, UsageError

ENDPOINT_ENV = "TRACER_S3_ENDPOINT"
VIA_ENV = "TRACER_S3_VIA"
ROUTES = ("httpfs", "fsspec")
REGION = "us-east-1"  # where s3://openalex lives
ENDPOINT_RE = re.compile(r"^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(:\d{1,5})?/?$")
BUCKET_RE = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/|$)")

_httpfs_failed = False  # a failed download is not tried again in the same process


def endpoint() -> str | None:
    """TRACER_S3_ENDPOINT, checked: a URL of scheme, host and port only."""
    value = os.environ.get(ENDPOINT_ENV, "").strip()
    if not value:
        return None
    if not ENDPOINT_RE.match(value):
        raise UsageError(
            f"{ENDPOINT_ENV}={value!r} is not an endpoint URL.",
            hint="Use a scheme, host and port only, e.g. http://127.0.0.1:9000.",
        )
    return value.rstrip("/")


def route() -> str | None:
    value = os.environ.get(VIA_ENV, "").strip().lower()
    if value and value not in ROUTES:
        raise UsageError(f"{VIA_ENV}={value!r} is not a route.", hint="Use httpfs or fsspec.")
    return value or None


def enable_s3(con: duckdb.DuckDBPyConnection, root: str) -> str:
    """Let `con` read the public bucket of `root` (an s3:// URL); returns the route taken."""
    match = BUCKET_RE.match(root)
    if not match:
        raise UsageError(f"{root} is not an s3:// URL with a bucket name.")
    bucket, url, forced = match.group(1), endpoint(), route()
    global _httpfs_failed
    problem = ""
    if forced != "fsspec" and not (_httpfs_failed and forced is None):
        try:
            _httpfs(con, bucket, url)
            return "httpfs"
        except duckdb.Error as exc:
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _httpfs_failed = True
            if forced == "httpfs":
                raise DataError(
                    f"DuckDB's httpfs extension could not be loaded: {problem}.",
                    hint=f"Unset {VIA_ENV} to read the bucket through s3fs instead.",
                ) from None
    _fsspec(con, url, problem)
    return "fsspec"


def _httpfs(con: duckdb.DuckDBPyConnection, bucket: str, url: str | None) -> None:
    try:
        con.execute("LOAD httpfs")
    except duckdb.Error:
        con.execute("INSTALL httpfs")
        con.execute("LOAD httpfs")
    # Region only, no key: requests go unsigned, as a public bucket allows. The bucket and the
    # endpoint were checked against strict patterns above, so spelling them in is safe.
    options = [f"REGION '{REGION}'", f"SCOPE 's3://{bucket}'"]
    if url:
        scheme, rest = url.split("://", 1)
        options += [f"ENDPOINT '{rest}'", "URL_STYLE 'path'", f"USE_SSL {scheme == 'https'}"]
    con.execute(
        "CREATE OR REPLACE SECRET tracer_s3 (TYPE s3, PROVIDER config, " + ", ".join(options) + ")"
    )


def _fsspec(con: duckdb.DuckDBPyConnection, url: str | None, problem: str) -> None:
    try:
        import s3fs
    except ImportError:
        raise DataError(
            "Reading the snapshot from S3 needs DuckDB's httpfs extension or s3fs, and neither "
            f"is there{': ' + problem if problem else ''}.",
            hint="pip install s3fs, or download the snapshot first (aws s3 sync "
            "s3://openalex/data DIR --no-sign-request) and pass the local folder.",
        ) from None
    client: dict[str, str] = {"region_name": REGION}
    if url:
        client["endpoint_url"] = url
    fs = s3fs.S3FileSystem(anon=True, client_kwargs=client, skip_instance_cache=True)
    con.register_filesystem(fs)


__all__ = ["ENDPOINT_ENV", "ROUTES", "VIA_ENV", "enable_s3", "endpoint", "route"]
