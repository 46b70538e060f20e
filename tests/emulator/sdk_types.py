"""What the installed SDK's request types say of a model's field: its docstring, read from source."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
import typing
from functools import cache

from typing_extensions import is_typeddict


def _literals(hint: object) -> set[object]:
    if typing.get_origin(hint) is typing.Literal:
        return set(typing.get_args(hint))
    found: set[object] = set()
    for arg in typing.get_args(hint):
        found |= _literals(arg)
    return found


@cache
def _classes(endpoint: str) -> list[type]:
    module = importlib.import_module(f"runwayml.types.{endpoint}_create_params")
    return [value for value in vars(module).values() if isinstance(value, type) and is_typeddict(value)]


def request_class(endpoint: str, model: str) -> type:
    """The SDK TypedDict of one model's request on one endpoint."""
    for cls in _classes(endpoint):
        hints = typing.get_type_hints(cls, include_extras=True)
        if "model" in hints and model in _literals(hints["model"]):
            return cls
    raise LookupError(f"{endpoint}/{model} is not in the SDK")


def field_doc(endpoint: str, model: str, field: str) -> str:
    """The docstring under a field (its python name) of a model's request class, whitespace folded."""
    cls = request_class(endpoint, model)
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body  # type: ignore[attr-defined]
    for stmt, following in zip(body, body[1:], strict=False):
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == field
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)):
            return " ".join(str(following.value.value).split())
    return ""


def has_field(endpoint: str, model: str, field: str) -> bool:
    """Whether a model's request class declares a field (python name)."""
    return field in typing.get_type_hints(request_class(endpoint, model))
