"""The principal: who is asking, with which rights, over which data. Resolved once per request.

Identity builds it from a session cookie or a bearer token; every other layer only reads it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from bankcrm.core.context import Actor, Origin
from bankcrm.core.errors import PermissionDenied
from bankcrm.core.permissions import Permission


class DataScope(enum.StrEnum):
    """How far a principal's reads reach (DOMAIN.md, Organisation)."""

    OWN = "own"  # own portfolio / own records
    SUBTREE = "subtree"  # own org unit and everything below it
    ALL = "all"  # head office

    def wider_than(self, other: DataScope) -> bool:
        order = (DataScope.OWN, DataScope.SUBTREE, DataScope.ALL)
        return order.index(self) > order.index(other)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    org_unit_id: int
    org_path: str  # materialised path of the org unit, e.g. "/1/4/9/"
    org_unit_name: str
    scope: DataScope
    permissions: frozenset[str]
    origin: Origin = field(default_factory=Origin)
    auth_method: str = "session"  # "session" or "token"
    session_id: int | None = None
    must_change_password: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, username=self.username, role=self.role, origin=self.origin)

    def can(self, permission: Permission | str) -> bool:
        """Templates ask with the permission's name (``principal.can("org.write")``); an unknown
        name raises rather than quietly answering no."""
        return Permission(permission).value in self.permissions

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(permission=permission.value)

    @property
    def scope_key(self) -> tuple[DataScope, str | None, int | None]:
        """Everything ``readable`` conditions are made of, for keying statements built once: a
        bank-wide principal's conditions are the same for all of them; narrower ones may use the
        unit's path and the user's id."""
        if self.scope is DataScope.ALL:
            return (self.scope, None, None)
        return (self.scope, self.org_path, self.user_id)

    def readable(
        self,
        *,
        owner_column: InstrumentedAttribute[int] | InstrumentedAttribute[int | None] | None,
        org_path_column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None] | None,
        extra_owner_condition: ColumnElement[bool] | None = None,
    ) -> ColumnElement[bool]:
        """The WHERE condition that limits a query to this principal's data scope.

        Repositories call this from their ``readable_by(principal)``; an owner column is the user
        who owns a record (e.g. a customer's primary RM), the org path column the unit it belongs to.
        """
        if self.scope is DataScope.ALL:
            return true()
        if self.scope is DataScope.SUBTREE and org_path_column is not None:
            return org_path_column.startswith(self.org_path, autoescape=True)
        conditions: list[ColumnElement[bool]] = []
        if owner_column is not None:
            conditions.append(owner_column == self.user_id)
        if extra_owner_condition is not None:
            conditions.append(extra_owner_condition)
        return or_(*conditions) if conditions else false()
