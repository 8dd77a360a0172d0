"""Identity's JSON API (/api/v1): who may call which route on which record.

Reading guide: anonymous API callers get 401; a missing permission is 403 whatever the target
(checked before the record is looked up, so it reveals nothing); a record outside the caller's
data scope is 404, exactly like a record that does not exist. Bearer tokens answer with the
intersection of their scopes and their role: ``cc+`` asks for user and audit rights that the
API-client role does not hold and is refused like ``cc``.
"""

from __future__ import annotations

from typing import Any

from tests.access import bodies
from tests.access.table import route, visibility

ROUTES = [
    route(
        "GET /api/v1/me",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200
        """,
    ),
    # ------------------------------------------------------------ org units
    route(
        "GET /api/v1/org-units",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 403 403 403 403 403 200 200 200 403 200 200 200
        """,
    ),
    route(
        "POST /api/v1/org-units",
        """
        target     anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD 401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 201 422
        unit:SH-PD 401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 422 422
        """,
        body=bodies.new_team,
    ),
    route(
        "GET /api/v1/org-units/{unit_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1 401  200 200 200 200 403 403 403 403 403 404 200 200 403 200 200 200
        unit:BJ-CY    401  200 200 200 404 403 403 403 403 403 404 200 200 403 200 200 404
        unit:SH-PD    401  200 200 404 404 403 403 403 403 403 404 200 200 403 200 404 404
        unit:HO       401  200 200 404 404 403 403 403 403 403 404 200 200 403 200 404 404
        unit:HO-RISK  401  200 200 404 404 403 403 403 403 403 200 200 200 403 200 404 404
        unit:missing  401  404 404 404 404 403 403 403 403 403 404 404 404 403 404 404 404
        """,
    ),
    route(
        "PATCH /api/v1/org-units/{unit_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 200
        unit:SH-PD    401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        unit:missing  401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.rename_unit,
    ),
    route(
        "POST /api/v1/org-units/{unit_id}/moves",
        """
        target                   anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1>unit:BJ-CY 401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 201 422
        unit:SH-PD-X>unit:BJ-CY  401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        unit:BJ-HD-X>unit:SH-PD  401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 422 404
        """,
        body=bodies.move_unit,
    ),
    route(
        "GET /api/v1/org-units/{unit_id}/moves",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1 401  200 200 200 200 403 403 403 403 403 404 200 200 403 200 200 200
        unit:SH-PD    401  200 200 404 404 403 403 403 403 403 404 200 200 403 200 404 404
        unit:missing  401  404 404 404 404 403 403 403 403 403 404 404 404 403 404 404 404
        """,
    ),
    route(
        "POST /api/v1/org-units/{unit_id}/close",
        """
        target       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-X 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 404
        unit:SH-PD-X 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /api/v1/org-units/{unit_id}/reopen",
        """
        target       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-CY-Z 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 404
        unit:SH-PD-Z 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
    # ------------------------------------------------------------ users
    route(
        "GET /api/v1/users",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 200 200 200 403 403 403 403 403 403 403 403 403 403 200 200
        """,
    ),
    # A user administrator places users only in units they can see, and gives no role whose data
    # scope is wider than their own (bj* cannot mint a head-office administrator).
    route(
        "POST /api/v1/users",
        """
        target                   anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1            401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 201 201
        unit:SH-PD-T1            401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 422 422
        unit:BJ-HD-T1>role:admin 401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 422 422
        """,
        body=bodies.new_user,
    ),
    route(
        "GET /api/v1/users/{user_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     401  200 200 200 200 403 403 403 403 403 403 403 403 403 403 200 200
        user:rm.zhang 401  200 200 200 200 403 403 403 403 403 403 403 403 403 403 200 404
        user:rm.chen  401  200 200 200 404 403 403 403 403 403 403 403 403 403 403 200 404
        user:rm.liu   401  200 200 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        user:admin    401  200 200 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        user:missing  401  404 404 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        user:exec.bj  401  200 200 200 404 403 403 403 403 403 403 403 403 403 403 200 404
        """,
    ),
    route(
        "PATCH /api/v1/users/{user_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 200
        user:rm.zhang 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 404
        user:rm.liu   401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        user:missing  401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.edit_user,
    ),
    # Acting for a user (disable, enable, reset, unlock) also needs the user's role to reach no
    # further than one's own: exec.bj is visible to the branch but bank-wide.
    route(
        "POST /api/v1/users/{user_id}/disable",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     401  422 403 403 403 403 403 403 403 403 403 403 403 403 403 422 422
        user:rm.zhang 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 404
        user:rm.liu   401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        user:exec.bj  401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /api/v1/users/{user_id}/enable",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:rm.zhang 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 404
        user:rm.liu   401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        user:exec.bj  401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /api/v1/users/{user_id}/password-reset",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:rm.zhang 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 404
        user:rm.liu   401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        user:exec.bj  401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 404
        """,
        body=bodies.password_reset,
    ),
    # Revealing a masked field needs both the unmask right and the right to see the user.
    route(
        "POST /api/v1/users/{user_id}/reveal",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     401  200 403 200 200 403 403 403 403 403 403 403 403 403 403 200 200
        user:rm.zhang 401  200 403 200 200 403 403 403 403 403 403 403 403 403 403 200 404
        user:rm.chen  401  200 403 200 404 403 403 403 403 403 403 403 403 403 403 200 404
        user:rm.liu   401  200 403 404 404 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reveal_mobile,
    ),
    # ------------------------------------------------------------ roles
    route(
        "GET /api/v1/roles",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 200
        """,
    ),
    route(
        "GET /api/v1/roles/{role_id}",
        """
        target                    anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        role:relationship_manager 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 200
        role:missing              401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        """,
    ),
    route(
        "PUT /api/v1/roles/{role_id}/permissions",
        """
        target         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        role:marketing 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 200
        role:missing   401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.role_permissions,
    ),
    # ------------------------------------------------------------ API tokens
    # Tokens belong to API-client users, and users are scoped: a branch's token manager works
    # only on the API clients of its own branch.
    route(
        "GET /api/v1/api-tokens",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 200
        """,
    ),
    route(
        "POST /api/v1/api-tokens",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:callcenter 401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 422 422
        user:sys.bj     401  201 403 403 403 403 403 403 403 403 403 403 403 403 403 201 422
        """,
        body=bodies.new_token,
    ),
    route(
        "POST /api/v1/api-tokens/{token_id}/revoke",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        token:hq      401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        token:bj      401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 200 404
        token:missing 401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 404 404
        """,
        body=bodies.reason,
    ),
]


def _listed_ids(response: Any, world: Any, target: Any) -> bool:
    return target.id in {item["id"] for item in response.json()["items"]}


VISIBILITY = [
    visibility(
        "/api/v1/users",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     -    yes yes yes yes -   -   -   -   -   -   -   -   -   -   yes yes
        user:rm.zhang -    yes yes yes yes -   -   -   -   -   -   -   -   -   -   yes no
        user:rm.chen  -    yes yes yes no  -   -   -   -   -   -   -   -   -   -   yes no
        user:rm.liu   -    yes yes no  no  -   -   -   -   -   -   -   -   -   -   no  no
        user:admin    -    yes yes no  no  -   -   -   -   -   -   -   -   -   -   no  no
        user:exec.bj  -    yes yes yes no  -   -   -   -   -   -   -   -   -   -   yes no
        """,
        query={"size": "200"},
        found=_listed_ids,
    ),
    visibility(
        "/api/v1/org-units",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1 -    yes yes yes yes -   -   -   -   -   no  yes yes -   yes yes yes
        unit:BJ-CY    -    yes yes yes no  -   -   -   -   -   no  yes yes -   yes yes no
        unit:SH-PD    -    yes yes no  no  -   -   -   -   -   no  yes yes -   yes no  no
        unit:HO       -    yes yes no  no  -   -   -   -   -   no  yes yes -   yes no  no
        unit:HO-RISK  -    yes yes no  no  -   -   -   -   -   yes yes yes -   yes no  no
        """,
        query={"size": "200"},
        found=_listed_ids,
    ),
    visibility(
        "/api/v1/api-tokens",
        """
        target   anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        token:hq -    yes -   -   -   -   -   -   -   -   -   -   -   -   -   no  no
        token:bj -    yes -   -   -   -   -   -   -   -   -   -   -   -   -   yes no
        """,
        query={"size": "200"},
        found=_listed_ids,
    ),
]
