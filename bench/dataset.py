"""The database the budgets are measured on: demo bank plus a realistic staff, built through services.

Everything goes through identity's service functions, as `bankcrm demo load` and an administrator
would do it, so the rows (audit trail included) look like those of a real installation.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bankcrm.cli import run_migrations
from bankcrm.core.config import Settings, get_settings
from bankcrm.core.context import Actor, Origin
from bankcrm.core.db import create_database
from bankcrm.core.permissions import Permission
from bankcrm.demo import seed
from bankcrm.identity.schemas import ApiTokenCreate, RolePermissionsUpdate
from bankcrm.identity.service import auth, orgs, roles, tokens, users

ADMIN = "admin"
API_CLIENT = "callcenter"
BULK_PASSWORD = "Bench#Staff-Passw0rd-2026"  # noqa: S105 - throwaway database, never signed in with
# Share of the generated staff per (role, unit): most staff are relationship managers and agents.
STAFF_PLAN = (
    ("relationship_manager", "BJ-HD-T1", 20),
    ("relationship_manager", "BJ-CY-T1", 20),
    ("relationship_manager", "SH-PD-T1", 20),
    ("service_agent", "HO-CC", 20),
    ("sub_branch_manager", "BJ-HD", 1),
    ("sub_branch_manager", "BJ-CY", 1),
    ("sub_branch_manager", "SH-PD", 1),
    ("branch_manager", "BJ", 1),
    ("branch_manager", "SH", 1),
    ("marketing", "HO-MKT", 6),
    ("risk_officer", "HO-RISK", 4),
    ("analyst", "HO", 3),
    ("executive", "HO", 1),
    ("admin", "HO", 1),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建文红云飞宇晨欣怡浩然子涵思雨嘉琪俊"
# The argon2 cost of the generated staff only: they never sign in, and hashing 2,000 passwords at
# production cost would take minutes. Demo users (who do sign in) keep the production cost.
CHEAP_HASHING = {
    "BANKCRM_ARGON2_TIME_COST": "1",
    "BANKCRM_ARGON2_MEMORY_KIB": "64",
    "BANKCRM_ARGON2_PARALLELISM": "1",
}


@dataclass(frozen=True)
class Dataset:
    users: int
    org_units: int
    audit_rows: int
    api_token: str


@contextmanager
def cheap_hashing() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in CHEAP_HASHING}
    os.environ.update(CHEAP_HASHING)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def staff_assignments(count: int) -> list[tuple[str, str]]:
    """(role, unit code) for each generated user, in the proportions of STAFF_PLAN."""
    total_weight = sum(weight for _, _, weight in STAFF_PLAN)
    assignments: list[tuple[str, str]] = []
    for role, unit, weight in STAFF_PLAN:
        assignments += [(role, unit)] * (count * weight // total_weight)
    assignments += [("relationship_manager", "BJ-HD-T1")] * (count - len(assignments))
    return assignments


def _add_staff(count: int) -> None:
    rng = random.Random(2026)  # the same staff on every run
    database = create_database(get_settings())
    actor = Actor.system("bench")
    with database.transaction() as session:
        units = {unit.code: orgs.find_unit_by_code(session, unit.code) for unit in seed.DEMO_UNITS}
        for number, (role, unit_code) in enumerate(staff_assignments(count), start=1):
            unit = units[unit_code]
            assert unit is not None
            users.bootstrap_user(
                session,
                actor,
                username=f"staff{number:05d}",
                display_name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                password=BULK_PASSWORD,
                unit=unit,
                role_code=role,
                mobile=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                email=f"staff{number:05d}@bank.example",
                employee_no=f"E{number:06d}",
            )
    database.dispose()


def issue_api_token(settings: Settings, *, name: str, grant: str | None = None, reason: str = "") -> str:
    """As the administrator: a token for the call-centre system with every scope of the API-client
    role, after letting the role hold ``grant`` too (for ``reason``) when one is given."""
    database = create_database(settings)
    origin = Origin(ip="127.0.0.1", user_agent="bench")
    with database.transaction() as session:
        login = auth.login(
            session, username=ADMIN, password=seed.DEMO_PASSWORD, origin=origin, settings=settings
        )
        assert login.token is not None, "the demo administrator could not sign in"
        resolved = auth.resolve_session(session, token=login.token, origin=origin, settings=settings)
        assert resolved is not None
        admin = resolved.principal
        api_role = next(role for role in roles.list_roles(session, admin) if role.code == "api_client")
        scopes = sorted(api_role.permissions)
        if grant is not None and grant not in scopes:
            scopes = sorted({*scopes, grant})
            roles.update_role_permissions(
                session,
                admin,
                role_id=api_role.id,
                data=RolePermissionsUpdate(permissions=scopes, reason=reason),
            )
        client = users.find_user_by_username(session, API_CLIENT)
        assert client is not None
        issued = tokens.issue_token(
            session, admin, data=ApiTokenCreate(name=name, user_id=client.id, scopes=scopes)
        )
        auth.logout(session, token=login.token, origin=origin)
    database.dispose()
    return issued.token


def build(settings: Settings, *, staff: int) -> Dataset:
    """Migrate a fresh database, load the demo bank, add ``staff`` users and an API token."""
    run_migrations(settings.database_url)
    database = create_database(settings)
    with database.transaction() as session:
        roles.sync_roles(session, Actor.system("bench"))
        seed.load_demo(session, only_if_empty=False)
    database.dispose()
    with cheap_hashing():
        _add_staff(staff)
    token = issue_api_token(
        settings, name="bench", grant=Permission.USER_READ.value, reason="Data warehouse reads the staff list"
    )
    database = create_database(settings)
    with database.engine.connect() as connection:
        counts = {
            table: int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())  # noqa: S608
            for table in ("app_user", "org_unit", "audit_event")
        }
    database.dispose()
    return Dataset(
        users=counts["app_user"],
        org_units=counts["org_unit"],
        audit_rows=counts["audit_event"],
        api_token=token,
    )
