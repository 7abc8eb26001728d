"""SQLAlchemy: what its asyncpg dialect would pass to ``asyncpg.connect`` for a URL.

chatkitd's hot reads run on a pool of raw asyncpg connections
(``chatkitd.store.readers``), opened with the very arguments SQLAlchemy's
dialect derives from ``CHATKITD_DATABASE_URL`` (host, port, user, password,
database, ``ssl`` and the other query options), so the URL means the same to
both. The dialect also accepts options it reads itself and asyncpg refuses;
which ones is its own business, hence this module.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, Dialect

# Options SQLAlchemy's asyncpg dialect reads itself; asyncpg.connect() refuses them.
_SQLALCHEMY_ONLY = ("async_creator_fn", "prepared_statement_cache_size", "prepared_statement_name_func")


def asyncpg_connect_args(url: URL, dialect: Dialect) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments for ``asyncpg.connect`` (or ``create_pool``) for ``url``."""
    args, kwargs = dialect.create_connect_args(url)
    for name in _SQLALCHEMY_ONLY:
        kwargs.pop(name, None)
    return list(args), dict(kwargs)
