"""The columns of the access matrix: who is asking.

One column per built-in role (three relationship managers, so that "another RM's ids" is a
row), three bearer tokens of the call-centre API client with different scopes, and two synthetic
users holding *every* permission, one with a branch scope and one with an own-portfolio scope:
with the default roles only head office may write, so without them no column would show whether
a write route respects the data scope.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_SCOPES = "*"  # a token asking for every permission there is


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "anonymous" | "session" | "token"
    role: str  # the role this column stands for
    username: str | None = None
    scopes: tuple[str, ...] = ()  # token columns: the scopes the token was issued with
    about: str = ""


PRINCIPALS: tuple[Column, ...] = (
    Column("anon", "anonymous", "-", about="a browser that opened the sign-in page, not signed in"),
    Column("adm", "session", "admin", "admin", about="administrator, head office, whole bank"),
    Column("exe", "session", "executive", "exec", about="executive, head office, whole bank"),
    Column("bm", "session", "branch_manager", "bm.beijing", about="Beijing branch manager, BJ subtree"),
    Column("sbm", "session", "sub_branch_manager", "sbm.haidian", about="Haidian sub-branch, BJ-HD subtree"),
    Column("zh", "session", "relationship_manager", "rm.zhang", about="RM in BJ-HD-T1, own portfolio"),
    Column("ch", "session", "relationship_manager", "rm.chen", about="RM in BJ-CY-T1, own portfolio"),
    Column("liu", "session", "relationship_manager", "rm.liu", about="RM in SH-PD-T1, own portfolio"),
    Column("mkt", "session", "marketing", "mkt", about="marketing, HO-MKT subtree"),
    Column("agt", "session", "service_agent", "agent", about="service agent, whole bank"),
    Column("rsk", "session", "risk_officer", "risk", about="risk officer, HO-RISK subtree"),
    Column("ana", "session", "analyst", "analyst", about="analyst, HO subtree"),
    Column(
        "cc",
        "token",
        "api_client",
        "callcenter",
        ("api.access", "org.read", "customer.read", "customer.name_view", "integration.run"),
        about="call-centre token with every right of its role",
    ),
    Column("cc-", "token", "api_client", "callcenter", ("api.access",), about="token narrowed to api.access"),
    Column(
        "cc+",
        "token",
        "api_client",
        "callcenter",
        (
            "api.access",
            "org.read",
            "customer.read",
            "customer.name_view",
            "user.read",
            "user.write",
            "audit.read",
            "api_token.manage",
            "customer.write",
            "customer.export",
            "pii.unmask",
            "customer.merge.approve",
            "integration.run",
            "integration.read",
            "integration.match_review",
        ),
        about="token asking for more than its role holds: the role still caps it",
    ),
    Column("bj*", "session", "matrix_branch_all", "matrix.branch", about="every permission, BJ subtree"),
    Column("own*", "session", "matrix_own_all", "matrix.own", about="every permission, own scope, BJ-HD-T1"),
)

COLUMNS: tuple[str, ...] = tuple(column.name for column in PRINCIPALS)
BY_NAME = {column.name: column for column in PRINCIPALS}
