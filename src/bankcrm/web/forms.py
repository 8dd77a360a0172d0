"""HTML forms: parse posted fields into the same Pydantic models the API uses, and show every
broken rule next to its field in the user's language."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from bankcrm.core.errors import FieldProblem, ValidationFailed
from bankcrm.core.i18n import N_, Translator

M = TypeVar("M", bound=BaseModel)

# Pydantic's rule names mapped to catalogue messages, so form errors read naturally in Chinese too.
PYDANTIC_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "string_pattern_mismatch": N_("The format is not valid."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "greater_than_equal": N_("Enter a value of at least %(ge)s."),
    "less_than_equal": N_("Enter a value of at most %(le)s."),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_parsing": N_("Enter a date as YYYY-MM-DD."),
    "literal_error": N_("Choose one of the offered values."),
    "too_short": N_("Choose at least %(min_length)s."),
    "too_long": N_("Choose at most %(max_length)s."),
    "extra_forbidden": N_("This field is not accepted."),
    "bool_parsing": N_("Choose yes or no."),
}


def problems_from_pydantic(error: ValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        rule = str(item.get("type", "invalid"))
        context = {
            key: value
            for key, value in (item.get("ctx") or {}).items()
            if isinstance(value, str | int | float)
        }
        message = PYDANTIC_MESSAGES.get(rule, N_("The value is not valid."))
        value = item.get("input")
        if value == "":
            # An input left blank breaks a format or number rule only because it is empty.
            message = PYDANTIC_MESSAGES["missing"]
        problems.append(
            FieldProblem(
                field=".".join(location) or "form",
                rule=rule,
                message=message,
                value=value if isinstance(value, str | int | float | bool) else None,
                params=context,
            )
        )
    return problems


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


def blank_to_none(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    """Empty optional inputs arrive as ''; the models expect None."""
    for name in names:
        if fields.get(name) == "":
            fields[name] = None
    return fields


def parse_form(model: type[M], fields: dict[str, Any]) -> M:
    try:
        return model.model_validate(fields)
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
