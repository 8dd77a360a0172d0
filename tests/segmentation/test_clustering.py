"""Clustering: on a book with planted groups the criterion finds their number and the words name the
planted traits; a run is kept by date and re-running it replaces it; members can be listed; the page
shows the clusters (or says there are none) to whole-bank readers only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bankcrm.cli import app as cli_app
from bankcrm.core.errors import ValidationFailed
from bankcrm.core.lake import Lake
from bankcrm.segmentation import clustering
from bankcrm.segmentation.cluster_command import describe
from bankcrm.segmentation.clustering import NoClusterRun, cluster_members, load_run, run_clustering

AS_OF = date(2026, 10, 31)
PER_GROUP = 150
# Each planted group differs from the others only in the traits named; everything else is alike.
BASE = {
    "age": 45.0,
    "tenure": 36.0,
    "aum": 300_000.0,
    "breadth": 2.0,
    "count": 40.0,
    "amount": 20_000.0,
    "digital": 0.3,
    "card": 500.0,
}
PLANTED = {
    "young_digital": {"age": 25.0, "aum": 5_000.0, "digital": 0.95, "card": 30_000.0},
    "wealthy_elder": {"age": 70.0, "aum": 5_000_000.0, "breadth": 5.0, "digital": 0.05},
    "busy_loyal": {"tenure": 240.0, "count": 600.0, "amount": 900_000.0},
}


def _plant(lake: Lake, as_of: date = AS_OF, *, seed: int = 1) -> dict[str, list[int]]:
    """A features run and its card-spending breakdown with three planted groups; their member ids."""
    rng = np.random.default_rng(seed)
    rows, spending, groups = [], [], {}
    next_id = 1
    for name, traits in PLANTED.items():
        values = {**BASE, **traits}
        groups[name] = list(range(next_id, next_id + PER_GROUP))
        for customer in groups[name]:
            noise = rng.normal(0.0, 0.03, size=8)
            rows.append(
                {
                    "customer_id": customer,
                    "as_of": as_of,
                    "age_years": int(values["age"] * (1 + noise[0])),
                    "tenure_months": int(values["tenure"] * (1 + noise[1])),
                    "aum_mda": Decimal(f"{values['aum'] * (1 + noise[2]):.2f}"),
                    "product_breadth": int(values["breadth"]),
                    "frequency_12m": int(values["count"] * (1 + noise[3])),
                    "monetary_12m": Decimal(f"{values['amount'] * (1 + noise[4]):.2f}"),
                    "digital_share_3m": min(1.0, values["digital"] * (1 + noise[5])),
                }
            )
            spending.append(
                {
                    "customer_id": customer,
                    "as_of": as_of,
                    "dimension": "channel",
                    "value": "pos",
                    "amount_out_3m": Decimal(f"{values['card'] * (1 + noise[6]):.2f}"),
                }
            )
        next_id += PER_GROUP
    partition = {"as_of": as_of.isoformat()}
    lake.write_file("features", pa.Table.from_pylist(rows), file_key="features", partition=partition)
    lake.write_file(
        "feature_breakdown", pa.Table.from_pylist(spending), file_key="breakdown", partition=partition
    )
    return groups


def _cluster_of(run: clustering.ClusterRun, lake: Lake, members: list[int]) -> clustering.ClusterProfile:
    for profile in run.clusters:
        if set(members) <= set(cluster_members(lake, as_of=run.as_of, cluster=profile.cluster)):
            return profile
    raise AssertionError("the planted group was split between clusters")


def test_the_silhouette_criterion_finds_the_planted_number_of_groups(lake: Lake) -> None:
    _plant(lake)
    run = run_clustering(lake)
    assert run.k == 3
    assert [score.k for score in run.k_scores] == list(range(2, 9))
    assert all(score.silhouette is not None for score in run.k_scores)
    best = max(run.k_scores, key=lambda score: score.silhouette or -1)
    assert best.k == 3
    assert best.chosen
    assert sorted(c.customers for c in run.clusters) == [PER_GROUP] * 3


def test_the_words_name_the_planted_traits_in_both_languages(lake: Lake) -> None:
    groups = _plant(lake)
    run = run_clustering(lake)
    young = _cluster_of(run, lake, groups["young_digital"])
    assert set(young.words) == {"young", "digital", "low AUM", "high card spending"}
    assert set(describe(young, "zh_CN").split("、")) == {"年轻", "数字渠道活跃", "资产较低", "刷卡消费多"}
    assert set(describe(young, "en").split(", ")) == {"young", "digital", "low AUM", "high card spending"}
    elder = _cluster_of(run, lake, groups["wealthy_elder"])
    assert set(elder.words) == {"older", "high AUM", "many kinds of product", "rarely digital"}
    busy = _cluster_of(run, lake, groups["busy_loyal"])
    assert set(busy.words[:3]) == {"long-standing", "frequent transactions", "large transaction amounts"}


def test_the_profile_compares_each_cluster_with_the_whole_book(lake: Lake) -> None:
    groups = _plant(lake)
    run = run_clustering(lake)
    young = _cluster_of(run, lake, groups["young_digital"])
    age = next(f for f in young.figures if f.feature.column == "age_years")
    assert age.median is not None
    assert 23 <= age.median <= 27
    assert age.overall_median is not None
    assert 43 <= age.overall_median <= 47
    assert age.z < -1
    assert young.share == pytest.approx(1 / 3)


def test_running_the_same_date_again_replaces_the_run_with_the_same_result(lake: Lake) -> None:
    _plant(lake)
    first = run_clustering(lake)
    assignments = pq.read_table(lake.partition_dir("cluster_assignments", {"as_of": "2026-10-31"}))
    run_clustering(lake, k=5)
    assert load_run(lake, as_of=AS_OF).k == 5  # type: ignore[union-attr]
    again = run_clustering(lake)
    assert again == first
    assert load_run(lake, as_of=AS_OF) == first
    folder = lake.partition_dir("cluster_assignments", {"as_of": "2026-10-31"})
    assert len(list(folder.glob("*.parquet"))) == 1
    assert pq.read_table(folder).equals(assignments)


def test_a_given_k_is_used_and_every_k_is_still_scored(lake: Lake) -> None:
    _plant(lake)
    run = run_clustering(lake, as_of=AS_OF, k=4)
    assert run.k == 4
    assert run.given
    assert [score.k for score in run.k_scores if score.chosen] == [4]
    assert len(run.clusters) == 4


def test_members_of_a_cluster_are_its_customers_ascending(lake: Lake) -> None:
    groups = _plant(lake)
    run = run_clustering(lake)
    young = _cluster_of(run, lake, groups["young_digital"])
    assert cluster_members(lake, as_of=AS_OF, cluster=young.cluster) == groups["young_digital"]


def test_members_of_a_missing_run_or_cluster_are_refused(lake: Lake) -> None:
    _plant(lake)
    with pytest.raises(NoClusterRun):
        cluster_members(lake, as_of=AS_OF, cluster=1)
    run_clustering(lake)
    with pytest.raises(ValidationFailed) as refused:
        cluster_members(lake, as_of=AS_OF, cluster=9)
    assert refused.value.problems[0].field == "cluster"


def test_a_date_without_a_scoring_run_or_a_k_out_of_range_is_refused(lake: Lake) -> None:
    _plant(lake)
    with pytest.raises(ValidationFailed) as no_run:
        run_clustering(lake, as_of=date(2026, 9, 30))
    assert no_run.value.problems[0].rule == "no_scoring_run"
    with pytest.raises(ValidationFailed) as bad_k:
        run_clustering(lake, k=12)
    assert bad_k.value.problems[0].rule == "k_range"
    assert clustering.cluster_dates(lake) == []


def test_the_command_prints_the_k_table_and_the_described_clusters(lake: Lake) -> None:
    _plant(lake)
    result = CliRunner().invoke(cli_app, ["cluster", "--as-of", "2026-10-31"])
    assert result.exit_code == 0, result.output
    assert "k = 3 (the highest mean silhouette)" in result.output
    assert "chosen" in result.output
    assert "high card spending" in result.output
    assert "刷卡消费多" in result.output


def test_the_command_names_a_bad_k(lake: Lake) -> None:
    _plant(lake)
    result = CliRunner().invoke(cli_app, ["cluster", "--k", "1"])
    assert result.exit_code == 2
    assert "k must be from 2 to 8" in result.output


def test_the_page_shows_each_cluster_with_its_words_and_the_k_table(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    _plant(lake)
    run_clustering(lake)
    page = signed_in("analyst").client.get("/segments/clusters")
    assert page.status_code == 200
    assert page.text.count("data-cluster=") == 3
    assert "刷卡消费多" in page.text
    assert 'data-k="3" data-chosen' in page.text
    assert "不限于数据范围" in page.text  # the figures are bank-wide, and the page says so


def test_the_page_speaks_english_too(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    _plant(lake)
    run_clustering(lake)
    session = signed_in("analyst")
    session.client.cookies.set("bankcrm_lang", "en")
    page = session.client.get("/segments/clusters").text
    assert "Customer clusters" in page
    assert "high card spending" in page


def test_before_any_run_the_page_says_so(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    page = signed_in("analyst").client.get("/segments/clusters")
    assert page.status_code == 200
    assert 'data-testid="empty-state"' in page.text
    assert "data-cluster=" not in page.text


def test_the_page_and_its_link_are_for_whole_bank_readers_only(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    _plant(lake)
    run_clustering(lake)
    rm = signed_in("rm.zhang").client
    assert rm.get("/segments/clusters").status_code == 403
    assert 'data-testid="clusters-link"' not in rm.get("/segments").text
    assert 'data-testid="clusters-link"' in signed_in("analyst").client.get("/segments").text


def test_card_spending_of_customers_outside_the_run_is_ignored(lake: Lake) -> None:
    groups = _plant(lake)
    stray = pa.Table.from_pylist(
        [
            {
                "customer_id": 99_999,
                "as_of": AS_OF,
                "dimension": "channel",
                "value": "pos",
                "amount_out_3m": Decimal("1"),
            }
        ]
    )
    lake.write_file("feature_breakdown", stray, file_key="stray", partition={"as_of": AS_OF.isoformat()})
    ids, raw = clustering.read_inputs(lake, as_of=AS_OF)
    card = [f.column for f in clustering.FEATURES].index("card_spending_3m")
    assert 99_999 not in ids
    first_young = list(ids).index(groups["young_digital"][0])
    assert raw[first_young, card] > 20_000


def test_a_cluster_is_kept_as_a_static_segment_of_its_members(lake: Lake, signed_in) -> None:  # type: ignore[no-untyped-def]
    _plant(lake)
    run = run_clustering(lake)
    session = signed_in("analyst")
    promoted = session.client.post(
        f"/segments/clusters/{AS_OF.isoformat()}/1/promote",
        data={"name": "数字化年轻客群", "csrf_token": session.csrf},
        follow_redirects=False,
    )
    assert promoted.status_code == 303
    page = session.client.get(promoted.headers["location"]).text
    assert 'data-testid="from-cluster"' in page
    size = next(c.customers for c in run.clusters if c.cluster == 1)
    assert f'<td class="num">{size:,}</td>' in page  # the run's members: the whole cluster
    branch = signed_in("bm.beijing")  # may define segments, but clusters are the whole bank's
    refused = branch.client.post(
        f"/segments/clusters/{AS_OF.isoformat()}/1/promote",
        data={"name": "分行看不到的聚类", "csrf_token": branch.csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 403
