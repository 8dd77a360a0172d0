"""The data-integration module's JSON API (/api/v1/integration): sources, batches and their rejects,
data quality, the match review queue and its decisions, and records sent by other systems.

Reading guide (the batch and the match candidates are described in ``integration_book.py``):

* only roles with integration rights see raw source data (docs/integration.md): by default the
  administrator alone holds ``integration.read``, ``integration.run`` and ``integration.match_review``,
  and the API-client role holds ``integration.run`` (other systems send records, they read nothing
  back); every other role gets 403 on every route, whatever the target (checked before the record
  is looked up);
* the rights are bank-wide: a delivery belongs to a source system, not to a branch, so the data scope
  does not narrow them, and only a role whose scope is the whole bank may hold them (``bj*`` and
  ``own*`` hold every other right: 403 here);
* tokens: ``cc`` holds every right of the API-client role and may send records; ``cc-`` is narrowed to
  api.access (403); ``cc+`` also asks for ``integration.read`` and ``integration.match_review``, which
  the role does not hold, so it reads and decides nothing, exactly like ``cc``;
* a missing batch, match candidate, source or field is 404 to those who may use the route;
* records are sent with an ``Idempotency-Key``; a key is remembered per caller, so the key the
  administrator already used for other records is a conflict (409) for the administrator only, and a
  new key to anybody else: nobody replays another caller's answer;
* a decided pair cannot be decided again (422).
"""

from __future__ import annotations

from typing import Any

from tests.access import bodies
from tests.access.table import route, visibility

# The lists, which name no record: integration.read, and no data scope.
READ_ONLY_TABLE = """
    target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
    -      401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
"""

ROUTES = [
    # ------------------------------------------------------------ sources and batches
    route("GET /api/v1/integration/sources", READ_ONLY_TABLE),
    route("GET /api/v1/integration/batches", READ_ONLY_TABLE),
    route(
        "GET /api/v1/integration/batches/{batch_id}",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        batch:core    401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        batch:missing 401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        """,
    ),
    route(
        "GET /api/v1/integration/batches/{batch_id}/rejects",
        """
        target        anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        batch:core    401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        batch:missing 401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        """,
    ),
    # ------------------------------------------------------------ records from other systems
    route(
        "POST /api/v1/integration/sources/{source}/records",
        """
        target               anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        source:core          401  201 403 403 403 403 403 403 403 403 403 403 201 403 201 403 403
        source:core>key:used 401  409 403 403 403 403 403 403 403 403 403 403 201 403 201 403 403
        source:missing       401  404 403 403 403 403 403 403 403 403 403 403 404 403 404 403 403
        """,
        body=bodies.records,
        headers=bodies.idempotency_key,
    ),
    # ------------------------------------------------------------ match review
    route("GET /api/v1/integration/matches", READ_ONLY_TABLE),
    route(
        "POST /api/v1/integration/matches/{candidate_id}/decision",
        """
        target            anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        candidate:pending 401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        candidate:decided 401  422 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        candidate:missing 401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        """,
        body=bodies.match_verdict,
    ),
    # ------------------------------------------------------------ data quality
    route("GET /api/v1/integration/quality", READ_ONLY_TABLE),
    route(
        "GET /api/v1/integration/quality/{source}",
        """
        target         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        source:core    401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        source:cards   401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        source:missing 401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        """,
    ),
    # ``source:cards`` has delivered nothing: its list of failing records is empty, not missing.
    route(
        "GET /api/v1/integration/quality/{source}/{field}/rejects",
        """
        target                         anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        source:core>field:id_number    401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        source:cards>field:id_number   401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        source:core>field:nosuch       401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        source:missing>field:id_number 401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        """,
    ),
    # ------------------------------------------------------------ golden records
    # A golden record is a customer's data: integration.read first (403 before any lookup), then the
    # customer's data scope like every customer route (out of scope = 404).
    route(
        "GET /api/v1/integration/golden/{customer_id}",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        customer:ch      401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        customer:liu     401  200 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        customer:missing 401  404 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403
        """,
    ),
]


def _listed_ids(response: Any, world: Any, target: Any) -> bool:
    return target.id in {item["id"] for item in response.json()["items"]}


VISIBILITY = [
    visibility(
        "/api/v1/integration/batches",
        """
        target     anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        batch:core -    yes -   -   -   -   -   -   -   -   -   -   -   -   -   -   -
        """,
        found=_listed_ids,
    ),
    visibility(
        "/api/v1/integration/matches",
        """
        target            anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        candidate:pending -    yes -   -   -   -   -   -   -   -   -   -   -   -   -   -   -
        candidate:decided -    no  -   -   -   -   -   -   -   -   -   -   -   -   -   -   -
        """,
        found=_listed_ids,
    ),
]
