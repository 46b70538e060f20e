"""Strict parsing of the identifiers people send: ASCII digits only, within what a database key holds.

`int()` takes "٣" and " 7 " and 5,000-digit strings; a database key is none of those. An id
that is not one of ours is simply not found: callers answer 404 or a form error, never 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MAX_ID = 2**63 - 1  # the largest key PostgreSQL's bigint and SQLite's integer hold
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(value: Any) -> int | None:
    """The id `value` names (1 … MAX_ID, ASCII digits), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values: Iterable[Any]) -> list[int] | None:
    """Every id of `values` in order, or None when any of them is not an id."""
    ids = [parse_id(v) for v in values]
    return None if any(i is None for i in ids) else ids  # type: ignore[return-value]
