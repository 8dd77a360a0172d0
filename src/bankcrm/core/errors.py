"""Domain errors: raised by services, rendered once by the web layer.

Errors carry a translatable message id and its parameters, never HTTP types; the web layer
turns them into RFC 9457 problem details (JSON) or an HTML/HTMX fragment in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar

from pydantic import ValidationError

from bankcrm.core.i18n import N_


@dataclass(frozen=True)
class FieldProblem:
    """One rejected input: which field, which value, which rule, and what to tell the user."""

    field: str
    rule: str
    message: str
    value: Any = None
    params: dict[str, Any] = dataclass_field(default_factory=dict)


class DomainError(Exception):
    """Base for every error a service may raise on purpose.

    ``kind`` is the category the web layer maps to a status; ``code`` is a stable machine name
    (it becomes the problem ``type``); ``message`` is a msgid formatted with ``params``.
    """

    kind: ClassVar[str] = "invalid"
    code: ClassVar[str] = "domain-error"
    default_message: ClassVar[str] = N_("The request could not be completed.")

    def __init__(self, message: str | None = None, /, **params: Any) -> None:
        self.message = message or self.default_message
        self.params = params
        super().__init__(self.message)


class NotFound(DomainError):
    kind = "not_found"
    code = "not-found"
    default_message = N_("The record does not exist or is outside your data scope.")


class Conflict(DomainError):
    kind = "conflict"
    code = "conflict"
    default_message = N_("The record was changed by someone else; reload it and try again.")


class PermissionDenied(DomainError):
    kind = "forbidden"
    code = "permission-denied"
    default_message = N_("You do not have permission for this action.")


class AuthenticationRequired(DomainError):
    kind = "unauthenticated"
    code = "authentication-required"
    default_message = N_("Please sign in to continue.")


class ValidationFailed(DomainError):
    """One or more fields broke a rule; nothing was changed."""

    kind = "invalid"
    code = "validation-failed"
    default_message = N_("Some fields are not valid; nothing was saved.")

    def __init__(self, problems: list[FieldProblem], message: str | None = None) -> None:
        super().__init__(message)
        self.problems = problems

    @classmethod
    def single(
        cls, field_name: str, rule: str, message: str, value: Any = None, **params: Any
    ) -> ValidationFailed:
        return cls([FieldProblem(field=field_name, rule=rule, message=message, value=value, params=params)])


@dataclass
class ProblemCollector:
    """Gathers every broken rule of a form before failing, so the user sees them all at once."""

    problems: list[FieldProblem] = dataclass_field(default_factory=list)

    def add(self, field_name: str, rule: str, message: str, value: Any = None, **params: Any) -> None:
        self.problems.append(
            FieldProblem(field=field_name, rule=rule, message=message, value=value, params=params)
        )

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)


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
    "string_control_characters": N_("Remove the control characters from this text."),
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
