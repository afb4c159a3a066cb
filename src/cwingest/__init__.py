"""cwingest: turn everything that survives of a WordPress publication into one clean,
deduplicated, documented Parquet corpus."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cwingest")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "InputError",
    "__version__",
    "load_authors",
    "load_changes",
    "load_issues",
    "load_post_sources",
    "load_posts",
    "load_runs",
    "load_table",
]

_LOADERS = {name for name in __all__ if name.startswith("load_")}


def __getattr__(name: str) -> object:
    """The loaders of :mod:`cwingest.corpus` (``cwingest.load_posts()``), imported when
    first used so that ``import cwingest`` stays light."""
    if name in _LOADERS:
        from cwingest import corpus

        return getattr(corpus, name)
    if name == "InputError":
        from cwingest.models import InputError

        return InputError
    raise AttributeError(f"module 'cwingest' has no attribute {name!r}")
