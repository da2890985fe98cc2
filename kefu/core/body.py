"""The base of every JSON request body: its integers and floats are strict.

Pydantic's lax mode reads JSON `true`/`false` as 1/0, a whole float such as `1.0` as 1 and `"1"` as 1,
so `{"assignee_id": true}` would assign ticket 1's agent. A request body is JSON a client typed, so
its integer fields (ids, counts, minutes, at any depth: lists, optional values) take JSON integers
only, and anything else is the ordinary 422. Its float fields (shares, hours, weights) take JSON numbers
only (not `true` or `"1.5"`), and never NaN or Infinity, which Python's JSON reads but no figure means.
Query and path parameters are not bodies: they arrive as text and keep their lax parsing.

A body model subclasses `Body` (beside its domain's `Schema` when it has one); the rule is applied
once here, to the model's own fields, so a nested model is strict when it is a `Body` too.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema

INT64_MAX = 2**63 - 1

# A database id in a body: a JSON integer from 1 to the largest BIGINT (beyond it the database errs).
BodyId = Annotated[int, Field(ge=1, le=INT64_MAX)]


def _strict_numbers(schema: Any, owner: type) -> None:
    if isinstance(schema, dict):
        if schema.get("type") == "model" and schema.get("cls") is not owner:
            return  # another model's fields: strict only if that model is a Body itself
        if schema.get("type") == "int":
            schema["strict"] = True
        elif schema.get("type") == "float":
            schema["strict"] = True  # a JSON integer is still a float; true, false and text are not
            schema["allow_inf_nan"] = False
        for value in schema.values():
            _strict_numbers(value, owner)
    elif isinstance(schema, list):
        for value in schema:
            _strict_numbers(value, owner)


class Body(BaseModel):
    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler,
                                     /) -> CoreSchema:
        schema = handler(source)
        _strict_numbers(schema, cls)
        return schema
