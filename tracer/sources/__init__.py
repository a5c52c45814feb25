"""One module per external source, each behind the interface in `tracer.sources.base`.

The sources in use are listed in `tracer.sources.registry`. The id helpers live in `tracer.ids`;
they are named here too because every source module uses them.
"""

from tracer.ids import (
    chunked,
    normalize_arxiv,
    normalize_doi,
    short_openalex_id,
    short_ror,
)

__all__ = ["chunked", "normalize_arxiv", "normalize_doi", "short_openalex_id", "short_ror"]
