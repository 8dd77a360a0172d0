"""Identity's HTML pages: sign-in, home, own password, and the administration of users, roles,
organisation units and API tokens.

Reading guide: a browser that is not signed in is sent to the sign-in page (``lgn``); bearer
tokens are for other systems' calls to /api and open no page (also ``lgn``); a missing permission
is a 403 page; a record outside the data scope is a 404 page; a successful form post redirects
(``303``), except issuing an API token, which shows the new token once (201).
"""

from __future__ import annotations

import re
from typing import Any

from tests.access import bodies
from tests.access.table import route, visibility

ROUTES = [
    # ------------------------------------------------------------ session
    route(
        "GET /login",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      200  303 303 303 303 303 303 303 303 303 303 303 200 200 200 303 303
        """,
    ),
    route(
        "POST /login",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        login:good       303  303 303 303 303 303 303 303 303 303 303 303 303 303 303 303 303
        login:wrong      200  200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200
        login:api-client 200  200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200
        """,
        body=bodies.sign_in_form,
    ),
    route(
        "POST /logout",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      303  303 303 303 303 303 303 303 303 303 303 303 303 303 303 303 303
        """,
    ),
    route(
        "POST /lang",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      303  303 303 303 303 303 303 303 303 303 303 303 303 303 303 303 303
        """,
        body=bodies.language,
    ),
    route(
        "GET /account/password",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /account/password",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  303 303 303 303 303 303 303 303 303 303 303 lgn lgn lgn 303 303
        """,
        body=bodies.own_password,
    ),
    route(
        "GET /",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 200 200 200 200 200 200 200 lgn lgn lgn 200 200
        """,
    ),
    # ------------------------------------------------------------ users
    route(
        "GET /admin/users",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    route(
        "GET /admin/users/new",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /admin/users/new",
        """
        target                   anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1            lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 303
        unit:SH-PD-T1            lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 422 422
        unit:BJ-HD-T1>role:admin lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 422 422
        """,
        body=bodies.new_user_form,
    ),
    route(
        "GET /admin/users/{user_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     lgn  200 200 200 200 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        user:rm.zhang lgn  200 200 200 200 403 403 403 403 403 403 403 lgn lgn lgn 200 404
        user:rm.chen  lgn  200 200 200 404 403 403 403 403 403 403 403 lgn lgn lgn 200 404
        user:rm.liu   lgn  200 200 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        user:missing  lgn  404 404 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        user:exec.bj  lgn  200 200 200 404 403 403 403 403 403 403 403 lgn lgn lgn 200 404
        """,
    ),
    route(
        "GET /admin/users/{user_id}/edit",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        user:rm.zhang lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 404
        user:rm.liu   lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
    ),
    route(
        "POST /admin/users/{user_id}/edit",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 303
        user:rm.zhang lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        user:rm.liu   lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.edit_user_form,
    ),
    route(
        "POST /admin/users/{user_id}/disable",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     lgn  422 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 422 422
        user:rm.zhang lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        user:rm.liu   lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        user:exec.bj  lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /admin/users/{user_id}/enable",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:rm.zhang lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        user:rm.liu   lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        user:exec.bj  lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /admin/users/{user_id}/unlock",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:rm.zhang lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        user:rm.liu   lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        user:exec.bj  lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /admin/users/{user_id}/password-reset",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:rm.zhang lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        user:rm.liu   lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        user:exec.bj  lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 404
        """,
        body=bodies.password_reset,
    ),
    route(
        "POST /admin/users/{user_id}/reveal",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     lgn  200 403 200 200 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        user:rm.zhang lgn  200 403 200 200 403 403 403 403 403 403 403 lgn lgn lgn 200 404
        user:rm.chen  lgn  200 403 200 404 403 403 403 403 403 403 403 lgn lgn lgn 200 404
        user:rm.liu   lgn  200 403 404 404 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.reveal_mobile,
    ),
    # ------------------------------------------------------------ roles
    route(
        "GET /admin/roles",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    route(
        "GET /admin/roles/{role_id}",
        """
        target                    anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        role:relationship_manager lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        role:missing              lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
    ),
    route(
        "POST /admin/roles/{role_id}",
        """
        target         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        role:marketing lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 303
        role:missing   lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.role_permissions,
    ),
    # ------------------------------------------------------------ organisation units
    route(
        "GET /admin/org-units",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 200 200 200 403 403 403 403 403 200 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "GET /admin/org-units/new",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /admin/org-units/new",
        """
        target     anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 422
        unit:SH-PD lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 422 422
        """,
        body=bodies.new_team_form,
    ),
    route(
        "GET /admin/org-units/{unit_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1 lgn  200 200 200 200 403 403 403 403 403 404 200 lgn lgn lgn 200 200
        unit:BJ-CY    lgn  200 200 200 404 403 403 403 403 403 404 200 lgn lgn lgn 200 404
        unit:SH-PD    lgn  200 200 404 404 403 403 403 403 403 404 200 lgn lgn lgn 404 404
        unit:HO       lgn  200 200 404 404 403 403 403 403 403 404 200 lgn lgn lgn 404 404
        unit:HO-RISK  lgn  200 200 404 404 403 403 403 403 403 200 200 lgn lgn lgn 404 404
        unit:missing  lgn  404 404 404 404 403 403 403 403 403 404 404 lgn lgn lgn 404 404
        """,
    ),
    route(
        "POST /admin/org-units/{unit_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1 lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 303
        unit:SH-PD    lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.rename_unit_form,
    ),
    route(
        "POST /admin/org-units/{unit_id}/move",
        """
        target                   anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1>unit:BJ-CY lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 422
        unit:SH-PD-X>unit:BJ-CY  lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        unit:BJ-HD-X>unit:SH-PD  lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 422 404
        """,
        body=bodies.move_unit_form,
    ),
    route(
        "POST /admin/org-units/{unit_id}/close",
        """
        target       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-X lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        unit:SH-PD-X lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.reason,
    ),
    route(
        "POST /admin/org-units/{unit_id}/reopen",
        """
        target       anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-CY-Z lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        unit:SH-PD-Z lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.reason,
    ),
    # ------------------------------------------------------------ API tokens
    route(
        "GET /admin/api-tokens",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /admin/api-tokens",
        """
        target          anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:callcenter lgn  201 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 422 422
        user:sys.bj     lgn  201 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 201 422
        """,
        body=bodies.new_token,
    ),
    route(
        "POST /admin/api-tokens/{token_id}/revoke",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        token:hq      lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        token:bj      lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 303 404
        token:missing lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 404 404
        """,
        body=bodies.reason,
    ),
]


def _links_to(prefix: str) -> Any:
    def found(response: Any, world: Any, target: Any) -> bool:
        return re.search(rf'href="{re.escape(prefix)}{target.id}"', response.text) is not None

    return found


def _shows_token(response: Any, world: Any, target: Any) -> bool:
    return f"matrix target {target.key}" in response.text


VISIBILITY = [
    visibility(
        "/admin/users",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        user:self     -    yes yes yes yes -   -   -   -   -   -   -   -   -   -   yes yes
        user:rm.zhang -    yes yes yes yes -   -   -   -   -   -   -   -   -   -   yes no
        user:rm.chen  -    yes yes yes no  -   -   -   -   -   -   -   -   -   -   yes no
        user:rm.liu   -    yes yes no  no  -   -   -   -   -   -   -   -   -   -   no  no
        user:admin    -    yes yes no  no  -   -   -   -   -   -   -   -   -   -   no  no
        user:exec.bj  -    yes yes yes no  -   -   -   -   -   -   -   -   -   -   yes no
        """,
        found=_links_to("/admin/users/"),
    ),
    visibility(
        "/admin/org-units",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        unit:BJ-HD-T1 -    yes yes yes yes -   -   -   -   -   no  yes -   -   -   yes yes
        unit:BJ-CY    -    yes yes yes no  -   -   -   -   -   no  yes -   -   -   yes no
        unit:SH-PD    -    yes yes no  no  -   -   -   -   -   no  yes -   -   -   no  no
        unit:HO       -    yes yes no  no  -   -   -   -   -   no  yes -   -   -   no  no
        unit:HO-RISK  -    yes yes no  no  -   -   -   -   -   yes yes -   -   -   no  no
        """,
        found=_links_to("/admin/org-units/"),
    ),
    visibility(
        "/admin/api-tokens",
        """
        target   anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        token:hq -    yes -   -   -   -   -   -   -   -   -   -   -   -   -   no  no
        token:bj -    yes -   -   -   -   -   -   -   -   -   -   -   -   -   yes no
        """,
        found=_shows_token,
    ),
]
