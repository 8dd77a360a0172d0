"""Customer clusters: k-means on standardised behaviour and value features, described in words.

A run reads one scoring run's features from the lake (``features/as_of=DATE``, plus card spending from
``feature_breakdown``), turns each customer into a row of ``FEATURES`` (money and counts through log1p,
since they are heavily skewed and one private-banking customer would otherwise be a cluster of its own),
standardises every column to mean 0 and standard deviation 1 over the whole book, and groups the rows
with scikit-learn's k-means.

**How k is chosen.** For every k in ``K_RANGE`` k-means is fitted on a fixed-seed sample of at most
``SAMPLE_ROWS`` customers and scored by the mean silhouette of that sample (how much closer each customer
is to its own cluster than to the next one, -1 to 1); the k with the highest score wins, the smaller k on
a tie. Every k's score is kept with the run. The final k-means is then fitted on all customers. An
analyst may give k instead; the scores are still computed and shown.

**Profile and words.** Each cluster gets its size and share, and per feature the mean and median of
the raw values (before log1p and standardising) against the whole book's, and its z-score: the mean of
its members' standardised values, i.e. how many of the book's standard deviations the cluster sits
away from the average. The cluster is described by its most distinctive features (``|z| ≥ DESCRIBE_Z``,
at most ``DESCRIBE_WORDS``, the largest first), each in the high or the low word of ``FEATURES``; the
words are catalogue message ids, so the same run reads in Chinese and in English.

The run is kept in the lake by the features' as-of date (assignments, profiles and the k table);
running the same date again replaces it. Figures here are statistics of groups, not amounts held,
so they are floats; the lake's features keep the exact decimals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from bankcrm.core.errors import NotFound, PermissionDenied, ValidationFailed
from bankcrm.core.i18n import N_
from bankcrm.core.lake import Lake
from bankcrm.core.logging import get_logger
from bankcrm.core.permissions import Permission
from bankcrm.core.principal import DataScope, Principal

FEATURES_DATASET = "features"  # written by jobs.run_scoring
BREAKDOWN_DATASET = "feature_breakdown"
ASSIGNMENTS = "cluster_assignments"
PROFILES = "cluster_profiles"
K_SCORES = "cluster_k_scores"
FILE_KEY = "clusters"

K_RANGE = range(2, 9)
SAMPLE_ROWS = 20_000  # silhouette is quadratic in the rows it scores
SEED = 20_261_130
N_INIT = 4  # k-means restarts per fit; the best of them is kept
DESCRIBE_Z = 0.5  # half a standard deviation from the book's average is worth a word
DESCRIBE_WORDS = 4
# Spending by bank card at a point of sale (the lake's channel of card-present purchases).
CARD_CHANNELS = ("pos",)
log = get_logger(__name__)


@dataclass(frozen=True)
class ClusterFeature:
    column: str
    label: str  # catalogue message ids, all three
    high: str
    low: str
    log1p: bool = False
    unit: str = "number"  # number | money | share: how a figure is shown
    # A missing value becomes the book's median (age of a corporate customer) or 0 (no activity).
    missing_is_zero: bool = True


FEATURES: tuple[ClusterFeature, ...] = (
    ClusterFeature("age_years", N_("Age"), N_("older"), N_("young"), missing_is_zero=False),
    ClusterFeature("tenure_months", N_("Months with the bank"), N_("long-standing"), N_("new to the bank")),
    ClusterFeature(
        "aum_mda", N_("Monthly daily average AUM"), N_("high AUM"), N_("low AUM"), log1p=True, unit="money"
    ),
    ClusterFeature(
        "product_breadth",
        N_("Product categories held"),
        N_("many kinds of product"),
        N_("few kinds of product"),
    ),
    ClusterFeature(
        "frequency_12m",
        N_("Transactions in the last 12 months"),
        N_("frequent transactions"),
        N_("few transactions"),
        log1p=True,
    ),
    ClusterFeature(
        "monetary_12m",
        N_("Transaction amount in the last 12 months"),
        N_("large transaction amounts"),
        N_("small transaction amounts"),
        log1p=True,
        unit="money",
    ),
    ClusterFeature(
        "digital_share_3m",
        N_("Digital share of transactions (3 months)"),
        N_("digital"),
        N_("rarely digital"),
        unit="share",
    ),
    ClusterFeature(
        "card_spending_3m",
        N_("Card spending (3 months)"),
        N_("high card spending"),
        N_("low card spending"),
        log1p=True,
        unit="money",
    ),
)
FEATURE_BY_COLUMN = {feature.column: feature for feature in FEATURES}

ASSIGNMENT_SCHEMA = pa.schema([("customer_id", pa.int64()), ("as_of", pa.date32()), ("cluster", pa.int32())])
PROFILE_SCHEMA = pa.schema(
    [
        ("as_of", pa.date32()),
        ("cluster", pa.int32()),
        ("customers", pa.int64()),
        ("share", pa.float64()),
        ("feature", pa.string()),
        ("mean", pa.float64()),
        ("median", pa.float64()),
        ("overall_mean", pa.float64()),
        ("overall_median", pa.float64()),
        ("z", pa.float64()),
    ]
)
K_SCORE_SCHEMA = pa.schema(
    [
        ("as_of", pa.date32()),
        ("k", pa.int32()),
        ("silhouette", pa.float64()),
        ("chosen", pa.bool_()),
        ("given", pa.bool_()),  # k given by the analyst rather than chosen by the criterion
        ("sample_rows", pa.int64()),
        ("customers", pa.int64()),
    ]
)

FloatMatrix = npt.NDArray[np.float64]


class NoClusterRun(NotFound):
    code = "no-cluster-run"
    default_message = N_("There is no clustering run as of %(as_of)s.")


class NoFeatureRun(NotFound):
    code = "no-feature-run"
    default_message = N_("There is no scoring run to cluster; run bankcrm score first.")


# --- the run's results --------------------------------------------------------------------------


@dataclass(frozen=True)
class KScore:
    k: int
    silhouette: float | None  # None: not computable (fewer distinct customers than k)
    chosen: bool


@dataclass(frozen=True)
class FeatureFigure:
    feature: ClusterFeature
    mean: float | None
    median: float | None
    overall_mean: float | None
    overall_median: float | None
    z: float

    @property
    def word(self) -> str:
        return self.feature.high if self.z > 0 else self.feature.low


@dataclass(frozen=True)
class ClusterProfile:
    cluster: int  # 1 = the largest
    customers: int
    share: float
    figures: tuple[FeatureFigure, ...]

    @property
    def distinctive(self) -> list[FeatureFigure]:
        """The figures that describe the cluster: far enough from the book's average, largest first."""
        ranked = sorted(self.figures, key=lambda figure: -abs(figure.z))
        return [figure for figure in ranked if abs(figure.z) >= DESCRIBE_Z][:DESCRIBE_WORDS]

    @property
    def words(self) -> list[str]:
        """Message ids of the cluster's description, e.g. young, digital, low AUM, high card spending."""
        return [figure.word for figure in self.distinctive]


@dataclass(frozen=True)
class ClusterRun:
    as_of: date
    k: int
    given: bool
    customers: int
    sample_rows: int
    k_scores: tuple[KScore, ...]
    clusters: tuple[ClusterProfile, ...]


# --- reading the features -------------------------------------------------------------------------


def _dates(lake: Lake, dataset: str) -> list[date]:
    folder = lake.dataset_dir(dataset)
    if not folder.is_dir():
        return []
    found = []
    for child in folder.glob("as_of=*"):
        if child.is_dir() and any(child.glob("*.parquet")):
            found.append(date.fromisoformat(child.name.removeprefix("as_of=")))
    return sorted(found)


def feature_dates(lake: Lake) -> list[date]:
    """The dates of the kept scoring runs, oldest first."""
    return _dates(lake, FEATURES_DATASET)


def _read(lake: Lake, dataset: str, as_of: date, columns: list[str] | None = None) -> pa.Table:
    folder = lake.partition_dir(dataset, {"as_of": as_of.isoformat()})
    tables = [pq.read_table(path, columns=columns) for path in sorted(folder.glob("*.parquet"))]
    return pa.concat_tables(tables) if tables else pa.table({})


def _as_float(table: pa.Table) -> pa.Table:
    return pa.table(
        {
            "customer_id": pc.cast(table["customer_id"], pa.int64()),
            "amount_out_3m": pc.cast(table["amount_out_3m"], pa.float64()),
        }
    )


def _card_spending(lake: Lake, as_of: date, ids: npt.NDArray[np.int64]) -> FloatMatrix:
    """Each customer's card outflows over 3 months (0 without any), in the order of ``ids``."""
    spending = np.zeros(len(ids), dtype=np.float64)
    folder = lake.partition_dir(BREAKDOWN_DATASET, {"as_of": as_of.isoformat()})
    if not folder.is_dir() or len(ids) == 0:
        return spending
    # Only the card channels' rows are read: the breakdown has a row per customer and category too.
    wanted = [("dimension", "=", "channel"), ("value", "in", list(CARD_CHANNELS))]
    parts = [
        _as_float(pq.read_table(path, columns=["customer_id", "amount_out_3m"], filters=wanted))
        for path in sorted(folder.glob("*.parquet"))
    ]
    if not parts:
        return spending
    spent = pa.concat_tables(parts).group_by("customer_id").aggregate([("amount_out_3m", "sum")])
    customers = spent["customer_id"].to_numpy()
    amounts = spent["amount_out_3m_sum"].to_numpy(zero_copy_only=False)
    order = np.argsort(ids)
    places = order[np.minimum(np.searchsorted(ids, customers, sorter=order), len(ids) - 1)]
    found = ids[places] == customers  # a customer in the breakdown but not in the features is left out
    spending[places[found]] = amounts[found]
    return spending


def read_inputs(lake: Lake, *, as_of: date) -> tuple[npt.NDArray[np.int64], FloatMatrix]:
    """Customer ids and the raw feature matrix (columns in ``FEATURES`` order, NaN where missing)."""
    columns = ["customer_id", *(f.column for f in FEATURES if f.column != "card_spending_3m")]
    table = _read(lake, FEATURES_DATASET, as_of, columns)
    ids = table["customer_id"].to_numpy().astype(np.int64)
    spending = _card_spending(lake, as_of, ids)
    matrix = np.empty((len(ids), len(FEATURES)), dtype=np.float64)
    for index, feature in enumerate(FEATURES):
        if feature.column == "card_spending_3m":
            matrix[:, index] = spending
        else:
            values = pc.cast(table[feature.column], pa.float64())
            matrix[:, index] = values.to_numpy(zero_copy_only=False)
    return ids, matrix


# --- transforming, choosing k, fitting ----------------------------------------------------------------


def standardise(raw: FloatMatrix) -> FloatMatrix:
    """Fill the gaps, log1p the skewed columns, and scale each column to mean 0 and deviation 1."""
    filled = raw.copy()
    for index, feature in enumerate(FEATURES):
        column = filled[:, index]
        missing = np.isnan(column)
        if missing.any():
            known = column[~missing]
            column[missing] = 0.0 if feature.missing_is_zero or known.size == 0 else float(np.median(known))
        if feature.log1p:
            filled[:, index] = np.log1p(np.clip(column, 0.0, None))
    spread = filled.std(axis=0)
    # A feature every customer shares carries no information; it stays 0 instead of dividing by 0.
    spread[spread == 0] = 1.0
    standardised: FloatMatrix = (filled - filled.mean(axis=0)) / spread
    return standardised


def _sample(rows: int) -> npt.NDArray[np.intp]:
    if rows <= SAMPLE_ROWS:
        return np.arange(rows)
    return np.sort(np.random.default_rng(SEED).choice(rows, size=SAMPLE_ROWS, replace=False))


def _kmeans(k: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=N_INIT, random_state=SEED)


def score_k(matrix: FloatMatrix) -> list[tuple[int, float | None]]:
    """Every k of ``K_RANGE`` with the silhouette of the sample's k-means; None where k is not possible."""
    sample = matrix[_sample(len(matrix))]
    distinct = len(np.unique(sample, axis=0))
    scores: list[tuple[int, float | None]] = []
    for k in K_RANGE:
        if k >= distinct:  # silhouette needs 2 ≤ clusters < distinct points
            scores.append((k, None))
            continue
        labels = _kmeans(k).fit_predict(sample)
        scores.append((k, float(silhouette_score(sample, labels)) if len(set(labels)) > 1 else None))
    return scores


def best_k(scores: list[tuple[int, float | None]]) -> int | None:
    """The criterion: highest mean silhouette, the smaller k on a tie."""
    usable = [(score, -k) for k, score in scores if score is not None]
    return -max(usable)[1] if usable else None


def fit_clusters(matrix: FloatMatrix, k: int) -> npt.NDArray[np.int32]:
    """Cluster numbers 1..k for every row, numbered by size (1 the largest) so runs read alike."""
    labels = _kmeans(k).fit_predict(matrix)
    sizes = np.bincount(labels, minlength=k)
    order = sorted(range(k), key=lambda label: (-sizes[label], label))
    renumber = np.empty(k, dtype=np.int32)
    for number, label in enumerate(order, start=1):
        renumber[label] = number
    numbered: npt.NDArray[np.int32] = renumber[labels]
    return numbered


# --- profiles -----------------------------------------------------------------------------------------


def _stat(values: FloatMatrix, fn: Any) -> float | None:
    known = values[~np.isnan(values)]
    return float(fn(known)) if known.size else None


def profile(
    raw: FloatMatrix, standardised: FloatMatrix, clusters: npt.NDArray[np.int32]
) -> list[ClusterProfile]:
    total = len(clusters)
    overall = [(_stat(raw[:, i], np.mean), _stat(raw[:, i], np.median)) for i in range(len(FEATURES))]
    profiles = []
    for number in range(1, int(clusters.max()) + 1):
        members = clusters == number
        figures = tuple(
            FeatureFigure(
                feature=feature,
                mean=_stat(raw[members, index], np.mean),
                median=_stat(raw[members, index], np.median),
                overall_mean=overall[index][0],
                overall_median=overall[index][1],
                z=float(standardised[members, index].mean()),
            )
            for index, feature in enumerate(FEATURES)
        )
        size = int(members.sum())
        profiles.append(ClusterProfile(number, size, size / total, figures))
    return profiles


# --- the run --------------------------------------------------------------------------------------------


def _resolve_date(lake: Lake, as_of: date | None) -> date:
    dates = feature_dates(lake)
    if as_of is None:
        if not dates:
            raise NoFeatureRun()
        return dates[-1]
    if as_of not in dates:
        raise ValidationFailed.single(
            "as_of",
            "no_scoring_run",
            N_("There is no scoring run as of %(as_of)s; the kept runs are: %(dates)s."),
            value=as_of.isoformat(),
            as_of=as_of.isoformat(),
            dates=", ".join(d.isoformat() for d in dates) or "—",
        )
    return as_of


def _check_k(k: int | None, customers: int) -> None:
    if k is None:
        return
    if k not in K_RANGE:
        raise ValidationFailed.single(
            "k",
            "k_range",
            N_("k must be from %(low)s to %(high)s."),
            value=k,
            low=K_RANGE[0],
            high=K_RANGE[-1],
        )
    if k >= customers:
        raise ValidationFailed.single(
            "k",
            "k_customers",
            N_("k must be less than the %(customers)s customers scored."),
            value=k,
            customers=customers,
        )


def run_clustering(lake: Lake, *, as_of: date | None = None, k: int | None = None) -> ClusterRun:
    """Cluster the customers of the scoring run as of ``as_of`` (default: the latest) and keep the run."""
    started = time.monotonic()
    day = _resolve_date(lake, as_of)
    ids, raw = read_inputs(lake, as_of=day)
    minimum = K_RANGE[0] + 1
    if len(ids) < minimum:
        raise ValidationFailed.single(
            "as_of",
            "too_few_customers",
            N_(
                "The scoring run as of %(as_of)s has %(customers)s customers; clustering needs at least %(minimum)s."  # noqa: E501
            ),
            value=day.isoformat(),
            as_of=day.isoformat(),
            customers=len(ids),
            minimum=minimum,
        )
    _check_k(k, len(ids))
    matrix = standardise(raw)
    scores = score_k(matrix)
    chosen = k if k is not None else best_k(scores)
    if chosen is None:
        raise ValidationFailed.single(
            "as_of",
            "no_spread",
            N_("The customers as of %(as_of)s are too alike to form clusters."),
            value=day.isoformat(),
            as_of=day.isoformat(),
        )
    clusters = fit_clusters(matrix, chosen)
    run = ClusterRun(
        as_of=day,
        k=chosen,
        given=k is not None,
        customers=len(ids),
        sample_rows=min(len(ids), SAMPLE_ROWS),
        k_scores=tuple(KScore(n, score, n == chosen) for n, score in scores),
        clusters=tuple(profile(raw, matrix, clusters)),
    )
    _store(lake, run, ids, clusters)
    log.info(
        "segmentation.clustered",
        as_of=day.isoformat(),
        k=chosen,
        customers=len(ids),
        seconds=round(time.monotonic() - started, 1),
    )
    return run


# --- keeping and reading runs -------------------------------------------------------------------------


def _store(lake: Lake, run: ClusterRun, ids: npt.NDArray[np.int64], clusters: npt.NDArray[np.int32]) -> None:
    partition = {"as_of": run.as_of.isoformat()}
    assignments = pa.table(
        {"customer_id": ids, "as_of": pa.array([run.as_of] * len(ids), pa.date32()), "cluster": clusters},
        schema=ASSIGNMENT_SCHEMA,
    )
    profiles = pa.Table.from_pylist(
        [
            {
                "as_of": run.as_of,
                "cluster": c.cluster,
                "customers": c.customers,
                "share": c.share,
                "feature": f.feature.column,
                "mean": f.mean,
                "median": f.median,
                "overall_mean": f.overall_mean,
                "overall_median": f.overall_median,
                "z": f.z,
            }
            for c in run.clusters
            for f in c.figures
        ],
        schema=PROFILE_SCHEMA,
    )
    k_scores = pa.Table.from_pylist(
        [
            {
                "as_of": run.as_of,
                "k": s.k,
                "silhouette": s.silhouette,
                "chosen": s.chosen,
                "given": run.given,
                "sample_rows": run.sample_rows,
                "customers": run.customers,
            }
            for s in run.k_scores
        ],
        schema=K_SCORE_SCHEMA,
    )
    # The k table is written last: a run counts as kept once it is there (``cluster_dates``).
    lake.write_file(ASSIGNMENTS, assignments, file_key=FILE_KEY, partition=partition)
    lake.write_file(PROFILES, profiles, file_key=FILE_KEY, partition=partition)
    lake.write_file(K_SCORES, k_scores, file_key=FILE_KEY, partition=partition)


def cluster_dates(lake: Lake) -> list[date]:
    """The dates of the kept clustering runs, oldest first."""
    return _dates(lake, K_SCORES)


def load_run(lake: Lake, *, as_of: date | None = None) -> ClusterRun | None:
    """A kept run (default: the latest), or None when there is none for that date."""
    dates = cluster_dates(lake)
    day = as_of if as_of is not None else (dates[-1] if dates else None)
    if day is None or day not in dates:
        return None
    scores = _read(lake, K_SCORES, day).to_pylist()
    rows = _read(lake, PROFILES, day).to_pylist()
    clusters = []
    for number in sorted({row["cluster"] for row in rows}):
        mine = [row for row in rows if row["cluster"] == number]
        figures = tuple(
            FeatureFigure(
                feature=FEATURE_BY_COLUMN[row["feature"]],
                mean=row["mean"],
                median=row["median"],
                overall_mean=row["overall_mean"],
                overall_median=row["overall_median"],
                z=row["z"],
            )
            for row in mine
            if row["feature"] in FEATURE_BY_COLUMN
        )
        clusters.append(ClusterProfile(number, mine[0]["customers"], mine[0]["share"], figures))
    first = scores[0]
    return ClusterRun(
        as_of=day,
        k=next(row["k"] for row in scores if row["chosen"]),
        given=bool(first["given"]),
        customers=int(first["customers"]),
        sample_rows=int(first["sample_rows"]),
        k_scores=tuple(KScore(row["k"], row["silhouette"], row["chosen"]) for row in scores),
        clusters=tuple(clusters),
    )


def cluster_members(lake: Lake, *, as_of: date, cluster: int) -> list[int]:
    """The customer ids of one cluster of the run as of ``as_of``, ascending (to promote to a segment).

    No data scope: the caller decides who may turn the whole bank's cluster into a segment."""
    run = load_run(lake, as_of=as_of)
    if run is None:
        raise NoClusterRun(as_of=as_of.isoformat())
    if not 1 <= cluster <= run.k:
        raise ValidationFailed.single(
            "cluster",
            "cluster_range",
            N_("The run as of %(as_of)s has clusters 1 to %(k)s."),
            value=cluster,
            as_of=as_of.isoformat(),
            k=run.k,
        )
    table = _read(lake, ASSIGNMENTS, as_of, ["customer_id", "cluster"])
    chosen = table.filter(pc.equal(table["cluster"], cluster))["customer_id"].to_pylist()
    return sorted(int(customer) for customer in chosen)


def may_see_clusters(principal: Principal) -> bool:
    """Clusters profile the whole bank (sizes and averages over every customer), so only principals
    who read all customers see them: a whole-bank scope, or the subtree of the head office (the one
    root of the organisation, DOMAIN.md), as analysts have. A narrower scope would learn bank-wide
    figures it cannot list."""
    if not principal.can(Permission.CUSTOMER_READ):
        return False
    at_head_office = principal.org_path.strip("/").count("/") == 0
    return principal.scope is DataScope.ALL or (principal.scope is DataScope.SUBTREE and at_head_office)


def latest_run_for(principal: Principal, lake: Lake) -> ClusterRun | None:
    """The latest kept run for the clusters page; refused below a whole-bank data scope."""
    principal.require(Permission.CUSTOMER_READ)
    if not may_see_clusters(principal):
        raise PermissionDenied(
            N_("Clusters describe the whole bank; they are shown to users who read all customers.")
        )
    return load_run(lake)
