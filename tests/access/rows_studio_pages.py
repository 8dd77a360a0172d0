"""The model studio's pages.

Reading guide: the studio (list, training, model card, activation) needs ``model.manage``, granted
to administrators, marketing and analysts (and the matrix's all-permission columns); a missing
model is 404 for them. A customer's scores follow the customer page exactly: ``customer.read`` and
the data scope, out of scope = 404. No model exists in the matrix world, so the model routes are
checked with a missing id; ``tests/segmentation/studio/test_pages.py`` opens real ones.
"""

from __future__ import annotations

from tests.access.table import route

ROUTES = [
    route(
        "GET /models",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  200 403 403 403 403 403 403 200 403 403 200 lgn lgn lgn 200 200
        """,
    ),
    route(
        "POST /models/train",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  422 403 403 403 403 403 403 422 403 403 422 lgn lgn lgn 422 422
        """,
    ),
    route(
        "POST /models/upload",
        """
        target anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        -      lgn  422 403 403 403 403 403 403 422 403 403 422 lgn lgn lgn 422 422
        """,
    ),
    route(
        "GET /models/{model_id}",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:missing lgn  404 403 403 403 403 403 403 404 403 403 404 lgn lgn lgn 404 404
        """,
    ),
    route(
        "POST /models/{model_id}/activate",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:missing lgn  404 403 403 403 403 403 403 404 403 403 404 lgn lgn lgn 404 404
        """,
    ),
    route(
        "POST /models/{model_id}/retire",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:missing lgn  404 403 403 403 403 403 403 404 403 403 404 lgn lgn lgn 404 404
        """,
    ),
    route(
        "GET /models/customers/{customer_id}",
        """
        target           anon adm exe bm  sbm zh  ch  liu mkt agt rsk ana cc  cc- cc+ bj* own*
        customer:zh      lgn  200 200 200 200 200 404 404 404 200 404 200 lgn lgn lgn 200 404
        customer:ch      lgn  200 200 200 404 404 200 404 404 200 404 200 lgn lgn lgn 200 404
        customer:liu     lgn  200 200 404 404 404 404 200 404 200 404 200 lgn lgn lgn 404 404
        customer:missing lgn  404 404 404 404 404 404 404 404 404 404 404 lgn lgn lgn 404 404
        """,
    ),
]
