"""tracer: trace where a research dataset goes."""

__version__ = "0.1.0"
