"""Survivorship rules: configuration and the choice of one value among a golden record's sources.

Pure functions over candidates, so the rules can be read and tested without a database; the service
in ``service/golden.py`` gathers the candidates and applies the winners.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from bankcrm.integration.mapping import MappingError, line_of

CONFIG_FILE = Path(__file__).resolve().parent / "survivorship.toml"
RULES = ("most_trusted", "most_recent", "most_complete")
CRM = "crm"  # the source name of a value an employee entered in the CRM

# The golden-record fields survivorship decides. Identity (ID type and number) is not among them: a
# customer's document changes only through the customers module's own checks.
FIELDS = (
    "name",
    "name_en",
    "mobile",
    "email",
    "address",
    "occupation",
    "income_band",
    "industry",
    "risk_level",
)


@dataclass(frozen=True)
class Survivorship:
    default: str = "most_trusted"
    crm_trust: int = 100
    fields: dict[str, str] = field(default_factory=dict)

    def rule_for(self, name: str) -> str:
        return self.fields.get(name, self.default)


@dataclass(frozen=True)
class Candidate:
    """One source's value for one field of a golden record."""

    source: str  # a source code, or CRM
    source_customer_no: str | None
    value: str
    trust: int
    as_of: datetime
    # Whether as_of is when the value changed (the source's update time, a questionnaire date, an
    # edit in the CRM) or only when the record reached us. A dated value outranks an undated one for
    # "most recent": a nightly snapshot of an old phone number is not news.
    dated: bool = True


def _ranking(rule: str, candidate: Candidate) -> tuple[Any, ...]:
    # The source name last keeps the choice deterministic when everything else ties.
    if rule == "most_recent":
        return (candidate.dated, candidate.as_of, candidate.trust, candidate.source)
    if rule == "most_complete":
        return (len(candidate.value), candidate.trust, candidate.as_of, candidate.source)
    return (candidate.trust, candidate.as_of, candidate.source)


def winner(rule: str, candidates: list[Candidate]) -> Candidate | None:
    """The value the golden record keeps under ``rule``; None when no source has one."""
    present = [c for c in candidates if c.value]
    if not present:
        return None
    return max(present, key=lambda c: _ranking(rule, c))


def _check_rule(path: Path, text: str, key: str, rule: object, *, section: str) -> str:
    if rule not in RULES:
        raise MappingError(
            path,
            line_of(text, key, after=section),
            f"'{key}' has rule {rule!r}; the rules are {', '.join(RULES)}",
        )
    return str(rule)


def load_survivorship(path: Path = CONFIG_FILE) -> Survivorship:
    """Read and check the configuration; an error names the line to fix."""
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(path, getattr(exc, "lineno", None), f"not valid TOML: {exc}") from exc
    section = data.get("survivorship", {})
    default = _check_rule(
        path, text, "default", section.get("default", "most_trusted"), section="survivorship"
    )
    crm_trust = section.get("crm_trust", 100)
    if not isinstance(crm_trust, int) or not 0 <= crm_trust <= 1000:
        raise MappingError(
            path,
            line_of(text, "crm_trust"),
            f"crm_trust must be a whole number from 0 to 1000, not {crm_trust!r}",
        )
    rules = {}
    for name, rule in section.get("fields", {}).items():
        if name not in FIELDS:
            raise MappingError(
                path,
                line_of(text, name, after="survivorship.fields"),
                f"'{name}' is not a golden-record field survivorship decides; those are {', '.join(FIELDS)}",
            )
        rules[name] = _check_rule(path, text, name, rule, section="survivorship.fields")
    return Survivorship(default=default, crm_trust=crm_trust, fields=rules)


@cache
def survivorship() -> Survivorship:
    return load_survivorship()
