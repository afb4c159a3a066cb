"""cwingest: turn everything that survives of a WordPress publication into one clean,
deduplicated, documented Parquet corpus."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cwingest")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
