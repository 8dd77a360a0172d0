"""HTML forms: parse posted fields into the same Pydantic models the API uses, and show every
broken rule next to its field in the user's language."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from bankcrm.core.errors import ValidationFailed, problems_from_pydantic
from bankcrm.core.i18n import Translator
from bankcrm.core.validation import without_control_characters

M = TypeVar("M", bound=BaseModel)


async def form_fields(request: Request) -> dict[str, Any]:
    """The posted form as a dict; repeated fields (checkbox groups) become lists; no CSRF token."""
    form = await request.form()
    fields: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        values = [value for value in form.getlist(key) if isinstance(value, str)]
        fields[key] = values if len(values) > 1 or key.endswith("[]") else (values[0] if values else "")
    return {key.removesuffix("[]"): value for key, value in fields.items()}


def query_text(value: str | None, max_length: int) -> str | None:
    """Free text from a page's query string (a search box): control characters dropped, trimmed,
    cut to ``max_length``; None when nothing is left."""
    cleaned = without_control_characters(value or "").strip()[:max_length]
    return cleaned or None


def blank_to_none(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    """Empty optional inputs arrive as ''; the models expect None."""
    for name in names:
        if fields.get(name) == "":
            fields[name] = None
    return fields


def parse_form(model: type[M], fields: dict[str, Any]) -> M:
    try:
        # A form posts every value as text, so "7" must become 7 here even for strict models.
        return model.model_validate(fields, strict=False)
    except ValidationError as exc:
        raise ValidationFailed(problems_from_pydantic(exc)) from exc


def field_errors(error: ValidationFailed, translate: Translator) -> dict[str, str]:
    """``{field: message}`` for rendering next to inputs (first problem per field)."""
    errors: dict[str, str] = {}
    for problem in error.problems:
        errors.setdefault(problem.field, translate.gettext(problem.message, **problem.params))
    return errors


def parse_bool(value: str | None) -> bool | None:
    """A filter's yes/no/any value from a query string."""
    return {"1": True, "true": True, "0": False, "false": False}.get((value or "").lower())


def parse_page(value: str | None) -> int:
    """A page number from a query string; anything odd means the first page."""
    try:
        return max(1, min(int(value or "1"), 1_000_000))
    except ValueError:
        return 1
