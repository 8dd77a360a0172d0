"""Route parameters shared by every module's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from bankcrm.core.validation import MAX_ROW_ID

# A record id in the path: a positive BIGINT; anything else is a 422, never a database error.
PathId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Record id.")]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]


def query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route takes, its dependencies' included (a query model: its fields)."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        for param in current.query_params:
            model = param.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names.update(field.alias or name for name, field in model.model_fields.items())
            else:
                names.add(param.alias)
        pending.extend(current.dependencies)
    return frozenset(names)


def reject_unknown_query(request: Request, known: frozenset[str]) -> None:
    """A 422 naming each query parameter the route does not take.

    FastAPI ignores them, so a misspelt filter (``?activ=false``) would answer the unfiltered list
    as if it had been applied; the JSON API rejects unknown input instead, as it does in bodies.
    """
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "Extra inputs are not permitted",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )
