"""The data-integration module's HTML pages: sources and the hand-delivered upload, batches and their
reject reports, the match review queue, and data quality.

Reading guide: the rights are those of the API (see ``rows_integration_api.py``): the administrator
alone holds them by default, only a role whose scope is the whole bank may hold them (``bj*`` and
``own*`` hold every other right), and the data scope narrows none of them; everybody else gets a 403
page. A browser that is not signed in, and a bearer token, are sent to
the sign-in page (``lgn``). A missing batch, match candidate, source or field is a 404 page. A
successful form post redirects (``303``): the upload to the new batch's page, a decision to the queue;
a form refused by a rule (an unknown source, a pair already decided) redirects too, with a message.
The reject report is a CSV download (200), a POST so that the audited export carries a CSRF token.
"""

from __future__ import annotations

import re
from typing import Any

from tests.access import bodies
from tests.access.table import route, visibility

# The lists, which name no record: integration.read, and no data scope.
READ_ONLY_TABLE = """
    target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
    -      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
"""

ROUTES = [
    # ------------------------------------------------------------ sources and batches
    route("GET /integration", READ_ONLY_TABLE),
    route(
        "POST /integration/upload",
        """
        target         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        source:core    lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        source:missing lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        """,
        body=bodies.delivery_form,
    ),
    route("GET /integration/batches", READ_ONLY_TABLE),
    route(
        "GET /integration/batches/{batch_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        batch:core    lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        batch:missing lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        """,
    ),
    route(
        "POST /integration/batches/{batch_id}/rejects.csv",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        batch:core    lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        batch:missing lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        """,
    ),
    # ------------------------------------------------------------ match review
    route("GET /integration/matches", READ_ONLY_TABLE),
    route(
        "POST /integration/matches/{candidate_id}/decision",
        """
        target            anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        candidate:pending lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        candidate:decided lgn  303 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        candidate:missing lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        """,
        body=bodies.match_verdict_form,
    ),
    # ------------------------------------------------------------ data quality
    route("GET /integration/quality", READ_ONLY_TABLE),
    route(
        "GET /integration/quality/{source}",
        """
        target         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        source:core    lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        source:cards   lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        source:missing lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        """,
    ),
    route(
        "GET /integration/quality/{source}/{field}",
        """
        target                         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        source:core>field:id_number    lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        source:cards>field:id_number   lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        source:core>field:nosuch       lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        source:missing>field:id_number lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        """,
    ),
    # ------------------------------------------------------------ golden records
    # A golden record is a customer's data: integration.read first (403 before any lookup), then the
    # customer's data scope like every customer route (out of scope = 404).
    route(
        "GET /integration/golden/{customer_id}",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        customer:ch      lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        customer:liu     lgn  200 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        customer:missing lgn  404 403 403 403 403 403 403 403 403 403 403 lgn lgn lgn 403 403
        """,
    ),
]


def _links_to_batch(response: Any, world: Any, target: Any) -> bool:
    return re.search(rf'href="/integration/batches/{target.id}"', response.text) is not None


def _shows_candidate(response: Any, world: Any, target: Any) -> bool:
    return f'data-candidate-id="{target.id}"' in response.text


VISIBILITY = [
    visibility(
        "/integration/batches",
        """
        target     anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        batch:core -    yes -   -   -   -   -   -   -   -   -   -   -   -   -   -   -
        """,
        found=_links_to_batch,
    ),
    visibility(
        "/integration/matches",
        """
        target            anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        candidate:pending -    yes -   -   -   -   -   -   -   -   -   -   -   -   -   -   -
        candidate:decided -    no  -   -   -   -   -   -   -   -   -   -   -   -   -   -   -
        """,
        found=_shows_candidate,
    ),
]
