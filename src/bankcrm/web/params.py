"""Route parameters shared by every module's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from bankcrm.core.validation import MAX_ROW_ID

# A record id in the path: a positive BIGINT; anything else is a 422, never a database error.
PathId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Record id.")]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
