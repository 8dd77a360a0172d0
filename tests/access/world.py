"""The bank the access matrix runs against, and how each column presents itself to the app.

The demo organisation plus a few things the matrix needs:

* empty teams ``BJ-HD-X`` and ``SH-PD-X`` (a unit can be closed only when nobody works in it) and
  closed teams ``BJ-CY-Z`` and ``SH-PD-Z`` (to be reopened);
* the synthetic roles ``matrix_branch_all`` (subtree) and ``matrix_own_all`` (own), each holding
  every permission, with users ``matrix.branch`` (BJ) and ``matrix.own`` (BJ-HD-T1);
* a second API client ``sys.bj`` in the Beijing branch;
* the three call-centre tokens of the token columns and two tokens that rows revoke:
  ``token:hq`` (call centre, head office) and ``token:bj`` (``sys.bj``);
* a relationship manager ``rm.wang`` in BJ-HD-T1 who is no column (handovers go to him);
* ``exec.bj``, a bank-wide executive account placed in the Beijing branch: visible to the branch,
  but no branch user administrator may reset, disable, enable or unlock it;
* the customers of ``customer_book.py`` and what surrounds them (targets ``customer:<key>``,
  ``merge:``, ``handover:``, ``interaction:``, ``tag:``, ``list:``, ``relationship:``, ``contact:``);
* the data-integration records of ``integration_book.py`` (targets ``batch:`` and ``candidate:``).

A target may name a second record after ``>``: a route with two ids in its path (a customer's
tag, link or contact) takes it as the second id, and body builders read it (a merge's second
customer, the RM a portfolio goes to). A second record that is no known kind (``section:assets``)
is put in the path as it is written; so is a first record of no known kind (``source:core``),
for the routes whose path names a record by its code rather than its id.

Everything is built once per module inside a transaction that is rolled back at the end; every
single request of the matrix runs inside a savepoint that is rolled back after it, so a row's
requests never see each other's changes.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from bankcrm.core.config import Settings
from bankcrm.core.context import Actor
from bankcrm.core.db import Database
from bankcrm.core.lake import Lake
from bankcrm.core.security import csrf_token_for, token_digest
from bankcrm.demo import seed
from bankcrm.identity.models import Role
from bankcrm.identity.schemas import ApiTokenCreate
from bankcrm.identity.service import orgs, tokens
from bankcrm.identity.service import roles as role_service
from bankcrm.identity.service import users as user_service
from bankcrm.main import create_app
from bankcrm.web.security import PRESESSION_COOKIE, SESSION_COOKIE
from tests.access.customer_book import build_customers
from tests.access.integration_book import build_integration
from tests.access.principals import BY_NAME, PRINCIPALS, Column
from tests.access.segment_book import build_segments
from tests.access.table import OTHER_REDIRECT, SIGN_IN_REDIRECT, RouteTable
from tests.support import grant_every_permission, principal_of, sign_in_token, signed_in_principal

MISSING_ID = 987_654_321  # an id no row has
SIGN_IN_PREFIX = "/login?next="


@dataclass(frozen=True)
class ExtraUnit:
    code: str
    name: str
    parent: str
    closed: bool


EXTRA_UNITS = (
    ExtraUnit("BJ-HD-X", "海淀支行待撤销组", "BJ-HD", closed=False),
    ExtraUnit("SH-PD-X", "浦东支行待撤销组", "SH-PD", closed=False),
    ExtraUnit("BJ-CY-Z", "朝阳支行已撤销组", "BJ-CY", closed=True),
    ExtraUnit("SH-PD-Z", "浦东支行已撤销组", "SH-PD", closed=True),
)
SYNTHETIC_ROLES = {"matrix_branch_all": "subtree", "matrix_own_all": "own"}
EXTRA_USERS = (
    # username, display name, role, unit
    ("matrix.branch", "矩阵分行全权", "matrix_branch_all", "BJ"),
    ("matrix.own", "矩阵本人全权", "matrix_own_all", "BJ-HD-T1"),
    ("sys.bj", "北京分行系统", "api_client", "BJ"),
    ("rm.wang", "王思源", "relationship_manager", "BJ-HD-T1"),
    ("exec.bj", "驻京高管", "executive", "BJ"),
)
# The people who set up the customers, each acting within their own rights (all are columns).
CUSTOMER_SET_UP = ("admin", "bm.beijing", "sbm.haidian", "rm.zhang", "rm.chen", "rm.liu", "agent")
TARGET_TOKENS = {"hq": "callcenter", "bj": "sys.bj"}  # token:<name> -> owner


@dataclass(frozen=True)
class Target:
    """A table row's target, resolved for one column."""

    text: str
    kind: str  # user | unit | role | token | - | any other word a route's body builder reads
    key: str  # username, unit code, role code, token name, or the raw text
    id: int | None
    dest_key: str | None = None  # after ">": e.g. the new parent of a move
    dest_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    status: int
    location: str
    problem: str

    def matches(self, cell: str) -> bool:
        if cell == SIGN_IN_REDIRECT:
            return self.status == 303 and self.location.startswith(SIGN_IN_PREFIX)
        if cell == OTHER_REDIRECT:
            return self.status == 303 and not self.location.startswith(SIGN_IN_PREFIX)
        return self.status == int(cell)

    def describe(self) -> str:
        if self.status == 303:
            return SIGN_IN_REDIRECT if self.location.startswith(SIGN_IN_PREFIX) else f"303 → {self.location}"
        return f"{self.status} {self.problem}".strip()


@dataclass
class World:
    client: TestClient
    connection: Connection
    settings: Settings
    units: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    user_units: dict[str, str] = field(default_factory=dict)  # username -> unit code
    user_roles: dict[str, str] = field(default_factory=dict)  # username -> role code
    roles: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # customers and the rest, by kind
    session_tokens: dict[str, str] = field(default_factory=dict)  # column -> session cookie
    bearer_tokens: dict[str, str] = field(default_factory=dict)  # column -> clear API token
    presession: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    # ------------------------------------------------------------ targets

    def resolve(self, text: str, column: Column) -> Target:
        first, _, dest = text.partition(">")
        kind, _, key = first.partition(":")
        if kind == "user" and key == "self":
            key = column.username or "(anonymous)"
        ident = self._id_of(kind, key)
        dest_key = dest.partition(":")[2] if dest else None
        dest_id = self._id_of(dest.partition(":")[0], dest_key) if dest and dest_key else None
        return Target(text=text, kind=kind, key=key or text, id=ident, dest_key=dest_key, dest_id=dest_id)

    def _id_of(self, kind: str, key: str) -> int | None:
        tables: Mapping[str, Mapping[str, int]] = {
            "user": self.users,
            "unit": self.units,
            "role": self.roles,
            "token": self.tokens,
        }
        if kind in self.records:
            return self.records[kind].get(key, MISSING_ID)
        if kind not in tables:
            return None
        return tables[kind].get(key, MISSING_ID)

    # ------------------------------------------------------------ requests

    def headers_for(self, column: Column, *, api: bool) -> dict[str, str]:
        """How this principal presents itself: a session cookie, a bearer token, or nothing."""
        secret = self.settings.secret_key
        if column.kind == "token":
            return {"Authorization": f"Bearer {self.bearer_tokens[column.name]}"}
        if column.kind == "session":
            token = self.session_tokens[column.name]
            return {
                "Cookie": f"{SESSION_COOKIE}={token}",
                "X-CSRF-Token": csrf_token_for(secret, "session:" + token_digest(token)),
            }
        if api:
            return {}  # another system without credentials sends no cookies either
        return {
            "Cookie": f"{PRESESSION_COOKIE}={self.presession}",
            "X-CSRF-Token": csrf_token_for(secret, "anon:" + self.presession),
        }

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()

    def request(
        self,
        method: str,
        path: str,
        column: Column,
        *,
        api: bool,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """``body`` values that are ``(file name, content, media type)`` tuples are sent as uploaded
        files (a multipart form)."""
        self.client.cookies.clear()
        sent = {**(headers or {}), **self.headers_for(column, api=api)}
        kwargs: dict[str, Any] = {"headers": sent, "params": dict(query or {})}
        if method != "GET":
            if api:
                kwargs["json"] = dict(body or {})
            else:
                fields = dict(body or {})
                files = {name: value for name, value in fields.items() if isinstance(value, tuple)}
                kwargs["data"] = {name: value for name, value in fields.items() if name not in files}
                if files:
                    kwargs["files"] = files
        with self.rolled_back():
            return self.client.request(method, path, **kwargs)

    def call(self, table: RouteTable, target_text: str, column_name: str) -> Outcome:
        column = BY_NAME[column_name]
        target = self.resolve(target_text, column)
        path = table.path
        if "{" in path:
            first: int | str | None = target.id
            if first is None and ":" in target_text.partition(">")[0]:
                first = target.key  # a record named by its code (``source:core``)
            assert first is not None, f"{table.label}: row {target_text} names no id for the path"
            name = path[path.index("{") + 1 : path.index("}")]
            path = path.replace("{" + name + "}", quote(str(first)))
        if "{" in path:
            second = target.dest_id if target.dest_id is not None else target.dest_key
            assert second is not None, f"{table.label}: row {target_text} names no second id after '>'"
            name = path[path.index("{") + 1 : path.index("}")]
            path = path.replace("{" + name + "}", quote(str(second)))
        body = table.body(self, target) if table.body else None
        query = {**table.query, **(table.params(self, target) if table.params else {})}
        headers = (
            {key: str(value) for key, value in (table.headers(self, target) or {}).items()}
            if table.headers
            else {}
        )
        response = self.request(
            table.method, path, column, api=table.is_api, query=query, body=body, headers=headers
        )
        problem = ""
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            problem = str(response.json().get("type", "")).removeprefix("/problems/")
        return Outcome(response.status_code, response.headers.get("location", ""), problem)


# ---------------------------------------------------------------- building it


def _populate(db: Session, settings: Settings, world: World) -> None:
    actor = Actor.system("access-matrix")
    seed.load_demo(db, only_if_empty=False)
    admin = signed_in_principal(db, settings, "admin")

    for extra in EXTRA_UNITS:
        parent = orgs.find_unit_by_code(db, extra.parent)
        assert parent is not None
        unit = orgs.bootstrap_org_unit(
            db, actor, code=extra.code, name=extra.name, name_en=None, kind="team", parent=parent
        )
        if extra.closed:
            orgs.set_org_unit_active(db, admin, unit_id=unit.id, active=False, reason="matrix set-up")

    for code, scope in SYNTHETIC_ROLES.items():
        db.add(Role(code=code, data_scope=scope, is_api_client=False))
        db.flush()
        grant_every_permission(db, admin, code)

    for username, display_name, role_code, unit_code in EXTRA_USERS:
        unit = orgs.find_unit_by_code(db, unit_code)
        assert unit is not None
        user_service.bootstrap_user(
            db,
            actor,
            username=username,
            display_name=display_name,
            password=seed.DEMO_PASSWORD,
            unit=unit,
            role_code=role_code,
            mobile="13500000009" if role_code != "api_client" else None,
        )

    for demo_user in seed.DEMO_USERS:
        world.user_units[demo_user.username] = demo_user.unit_code
        world.user_roles[demo_user.username] = demo_user.role
    for username, _name, role_code, unit_code in EXTRA_USERS:
        world.user_units[username] = unit_code
        world.user_roles[username] = role_code
    for username in world.user_units:
        found = user_service.find_user_by_username(db, username)
        assert found is not None
        world.users[username] = found.id
    for code in [unit.code for unit in seed.DEMO_UNITS] + [extra.code for extra in EXTRA_UNITS]:
        found_unit = orgs.find_unit_by_code(db, code)
        assert found_unit is not None
        world.units[code] = found_unit.id
    world.roles = {role.code: role.id for role in role_service.list_roles(db, admin)}

    for column in PRINCIPALS:
        if column.kind == "session":
            assert column.username is not None
            world.session_tokens[column.name] = sign_in_token(db, settings, column.username)
        elif column.kind == "token":
            issued = tokens.issue_token(
                db,
                admin,
                data=ApiTokenCreate(
                    name=f"matrix {column.name}",
                    user_id=world.users["callcenter"],
                    scopes=list(column.scopes),
                ),
            )
            world.bearer_tokens[column.name] = issued.token
    people = {
        column.username: principal_of(db, settings, world.session_tokens[column.name])
        for column in PRINCIPALS
        if column.username in CUSTOMER_SET_UP and column.kind == "session"
    }
    world.records = build_customers(db, people, world.users, world.units).ids
    world.records.update(build_integration(db, admin).ids)
    world.records.update(build_segments(db, people["bm.beijing"], Lake(settings.lake_root)))
    for name, owner in TARGET_TOKENS.items():
        issued = tokens.issue_token(
            db,
            admin,
            data=ApiTokenCreate(
                name=f"matrix target {name}", user_id=world.users[owner], scopes=["api.access", "org.read"]
            ),
        )
        world.tokens[name] = issued.id


@contextmanager
def build_world(connection: Connection, settings: Settings) -> Iterator[World]:
    """The matrix bank inside ``connection``'s open transaction, and a client for its app."""
    sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    database = Database(engine=connection.engine, read_sessions=sessions, write_sessions=sessions)
    app = create_app(settings, database)
    # Segments read the lake: the matrix scores its customers into a lake of its own.
    saved_lake = settings.lake_dir
    settings.lake_dir = Path(tempfile.mkdtemp(prefix="matrix-lake-"))
    with TestClient(
        app, base_url="http://testserver", follow_redirects=False, raise_server_exceptions=False
    ) as client:
        world = World(client=client, connection=connection, settings=settings)
        with sessions() as db:
            _populate(db, settings, world)
            db.commit()
        try:
            yield world
        finally:
            shutil.rmtree(settings.lake_dir, ignore_errors=True)
            settings.lake_dir = saved_lake
