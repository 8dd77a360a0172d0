"""The segments-and-tiers page: the latest run as each viewer's scope sees it, in both languages."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session

from bankcrm.core.lake import Lake
from bankcrm.segmentation.jobs import compute_features, store_features
from tests.segmentation.test_scoring_run import _history

AS_OF = date(2026, 10, 31)


def _customers_in(html: str, section: str) -> int:
    block = html[html.index(f'data-testid="{section}"') :]
    block = block[: block.index("</section>")]
    return sum(int(n.replace(",", "")) for n in re.findall(r'<td class="num">([\d,]+)</td>', block))


def test_before_any_run_the_page_says_so(signed_in) -> None:  # type: ignore[no-untyped-def]
    page = signed_in("rm.zhang").client.get("/segments")
    assert page.status_code == 200
    assert "尚未运行评分" in page.text


def test_each_viewer_counts_only_the_customers_of_its_scope(
    db: Session, lake: Lake, make_customer, signed_in
) -> None:  # type: ignore[no-untyped-def]
    mine = make_customer("rm.zhang", name="甲一")
    other = make_customer("rm.chen", name="乙二")
    _history(lake, mine.id)
    _history(lake, other.id)
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)

    zhang = signed_in("rm.zhang").client.get("/segments").text
    assert "截至 2026-10-31" in zhang
    assert _customers_in(zhang, "rfm-segments") == 1  # rm.zhang's customer only
    assert _customers_in(zhang, "tiers") == 1
    admin = signed_in("admin").client.get("/segments").text
    assert _customers_in(admin, "rfm-segments") == 2


def test_the_page_speaks_english_too(db: Session, lake: Lake, make_customer, signed_in) -> None:  # type: ignore[no-untyped-def]
    person = make_customer("rm.zhang", name="丙三")
    _history(lake, person.id)
    store_features(db, lake, compute_features(db, lake, as_of=AS_OF), as_of=AS_OF)
    session = signed_in("rm.zhang")
    session.client.post("/lang", data={"locale": "en", "next": "/", "csrf_token": session.csrf})
    page = session.client.get("/segments").text
    assert "Segments and tiers" in page
    assert "from the scoring run as of 2026-10-31" in page
    assert "RFM segments" in page
