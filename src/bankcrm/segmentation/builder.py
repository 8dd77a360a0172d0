"""The segment builder's form, read back into a rule and edited by its buttons.

The builder page is server-rendered: every change posts the whole form and the page comes back
with the rule redrawn and its live count. Inputs are named by their place in the tree — ``n`` is
the whole rule, ``n.2`` its second item, ``n.2.1`` the first item of that group — and by the part
they hold (``n.2.1.field``, ``n.2.1.value`` …). A group has a ``join``; a condition has a ``field``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bankcrm.segmentation.rules import CHOICE, FIELDS, OPERATORS

PARTS = (
    "join",
    "field",
    "operator",
    "value",
    "value2",
    "months",
    "measure",
    "direction",
    "category",
    "channel",
    "each_month",
)
_NAME = re.compile(r"n((?:\.\d{1,3}){0,6})\.([a-z_0-9]+)")
MAX_ITEMS = 40  # a form with more inputs than a rule may hold is not read further


def blank_condition() -> dict[str, Any]:
    return {"field": "aum_mda", "operator": "ge", "value": "0"}  # counts everyone: a start, not an error


def blank_rule() -> dict[str, Any]:
    return {"join": "and", "items": [blank_condition()]}


def _place(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in path.split(".") if part)


def rule_from_form(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The rule the builder's inputs describe (unchecked: ``rules.parse_rule`` judges it)."""
    nodes: dict[tuple[int, ...], dict[str, Any]] = {}
    for key, value in fields.items():
        match = _NAME.fullmatch(key)
        if match is None or match.group(2) not in PARTS:
            continue
        nodes.setdefault(_place(match.group(1)), {})[match.group(2)] = value
    return _node((), nodes) if () in nodes else blank_rule()


def _node(place: tuple[int, ...], nodes: dict[tuple[int, ...], dict[str, Any]]) -> dict[str, Any]:
    raw = nodes[place]
    if "join" in raw:
        children = sorted(p for p in nodes if len(p) == len(place) + 1 and p[: len(place)] == place)
        return {"join": raw["join"], "items": [_node(child, nodes) for child in children[:MAX_ITEMS]]}
    return _condition(raw)


def _condition(raw: dict[str, Any]) -> dict[str, Any]:
    field = str(raw.get("field", ""))
    operator = str(raw.get("operator", ""))
    spec = FIELDS.get(field)
    if spec is not None and operator not in OPERATORS[spec.kind]:
        operator = OPERATORS[spec.kind][0]  # the field changed: start from its first operator
    condition: dict[str, Any] = {"field": field, "operator": operator}
    value = raw.get("value", "")
    if spec is not None and spec.kind == CHOICE:
        condition["value"] = [v for v in (value if isinstance(value, list) else [value]) if v]
    elif operator == "between":
        condition["value"] = [value, raw.get("value2", "")]
    else:
        condition["value"] = value
    if spec is not None and spec.code == "txn":
        condition.update(
            months=raw.get("months", "3"),
            measure=raw.get("measure", "count"),
            direction=raw.get("direction") or None,
            category=raw.get("category") or None,
            channel=raw.get("channel") or None,
            each_month=raw.get("each_month") in ("on", "1", "true", True),
        )
    return condition


def _group_at(rule: dict[str, Any], place: tuple[int, ...]) -> dict[str, Any] | None:
    node = rule
    for index in place:
        items = node.get("items", [])
        if not 1 <= index <= len(items):
            return None
        node = items[index - 1]
    return node if "items" in node else None


def apply_action(rule: dict[str, Any], action: str) -> dict[str, Any]:
    """The rule after one of the builder's buttons: ``add-condition:n.2``, ``add-group:n``,
    ``remove:n.2.1``. An action naming no such place changes nothing."""
    verb, _, path = action.partition(":")
    place = _place(path.removeprefix("n"))
    if verb in ("add-condition", "add-group"):
        group = _group_at(rule, place)
        if group is not None and len(group["items"]) < MAX_ITEMS:
            new = (
                blank_condition() if verb == "add-condition" else {"join": "or", "items": [blank_condition()]}
            )
            group["items"].append(new)
    elif verb == "remove" and place:
        parent = _group_at(rule, place[:-1])
        if parent is not None and 1 <= place[-1] <= len(parent["items"]):
            del parent["items"][place[-1] - 1]
    return rule
