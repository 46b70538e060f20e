"""Strict checks of the emulator's raw JSON against the SDK's response types.

The SDK builds its response objects without validating them (``construct``), so a wrong type
or a field the SDK does not know would pass unnoticed. Here the raw body is validated with
pydantic against the SDK's own type, and any field the type does not declare fails the test.
"""

from __future__ import annotations

from typing import Any

import pydantic


def _no_extras(value: Any, path: str) -> None:
    if isinstance(value, pydantic.BaseModel):
        extra = value.__pydantic_extra__ or {}
        assert not extra, f"{path}: fields the SDK does not declare: {sorted(extra)}"
        for name in type(value).model_fields:
            _no_extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_extras(item, f"{path}[{index}]")


def conform(tp: Any, data: Any) -> Any:
    """``data`` validated as the SDK type ``tp``; fails on a wrong shape or an undeclared field."""
    value = pydantic.TypeAdapter(tp).validate_python(data)
    _no_extras(value, "response")
    return value


def conform_page(item: Any, data: Any) -> list[Any]:
    """A cursor page (``{"data": [...], "nextCursor"}``) whose items are each the SDK type ``item``."""
    assert isinstance(data, dict) and set(data) <= {"data", "nextCursor"}, data
    assert data.get("nextCursor") is None or isinstance(data["nextCursor"], str)
    return conform(list[item], data["data"])


def raw_json(call: Any, *args: Any, **kwargs: Any) -> Any:
    """The JSON body of an SDK call made through its ``with_raw_response`` twin."""
    return call(*args, **kwargs).json()
