"""The Splink model for a user's file: comparisons and blocking chosen from the roles present.

Nothing here knows the operational database: records come in as plain rows of standardised
fields and pairs and clusters go out as plain rows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink import comparison_level_library as cll
from splink import comparison_library as cl

# Splink 5 exports these only from its internals; the version is pinned.
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.exceptions import SplinkException
from splink.internals.splink_dataframe import SplinkDataFrame

# Splink reports every level it could not train at WARNING; a small file leaves several untrained.
logging.getLogger("splink").setLevel(logging.ERROR)

# A blocking value shared by more records than this (a placeholder phone, 1900-01-01, the most
# common name in a million-row file) identifies nobody; it is left out of blocking so every rule
# stays near-linear: at most MAX_BLOCK_SIZE/2 comparisons per record.
MAX_BLOCK_SIZE = 200
# Equality on these finds candidate pairs; the most selective first.
BLOCKING_FIELDS = ("id_number", "phone", "email", "birth_date", "name_key", "name_reading", "address")
# EM on each of these learns how often the *other* fields agree among true matches.
TRAINING_FIELDS = ("birth_date", "phone", "email", "id_number", "name_key")
# Agreement so strong that such pairs are almost surely the same person: estimates how many true
# pairs there are at all.
DETERMINISTIC_RULES = (
    ("id_number",),
    ("name_key", "birth_date"),
    ("name_key", "phone"),
    ("name_key", "email"),
)
SOURCE_A, SOURCE_B = "a", "b"


@dataclass(frozen=True)
class Level:
    label: str
    creator: ComparisonLevelCreator


def _exact(column: str) -> list[Level]:
    return [Level("same", cll.ExactMatchLevel(column)), Level("different", cll.ElseLevel())]


def _name_levels() -> list[Level]:
    # Most names in a Chinese file share a reading with someone (张伟 and 张薇 are both zhangwei),
    # so the same characters outrank the same reading, which outranks a similar one.
    return [
        Level("same", cll.ExactMatchLevel("name")),
        Level(
            "same reading",
            cll.Or(cll.ExactMatchLevel("name_reading"), cll.ExactMatchLevel("name_key")),
        ),
        Level(
            "similar",
            # One character swapped or wrong, on the characters: 许华丽 and 许丽华 read quite
            # differently, and Jaro-Winkler finds no similarity in names this short.
            cll.Or(
                cll.DamerauLevenshteinLevel("name", 1),
                cll.JaroWinklerLevel("name_reading", 0.88),
                cll.JaroWinklerLevel("name_key", 0.88),
            ),
        ),
        Level("different", cll.ElseLevel()),
    ]


def _address_levels() -> list[Level]:
    return [
        Level("same", cll.ExactMatchLevel("address")),
        Level("similar", cll.JaroWinklerLevel("address", 0.9)),
        Level("different", cll.ElseLevel()),
    ]


def _id_number_levels() -> list[Level]:
    return [
        # A passport number beside an 18-character resident ID says nothing either way: weigh it as
        # blank. Without document types in the file, the number's length tells the kinds apart.
        Level(
            "different kinds",
            cll.CustomLevel("length(id_number_l) <> length(id_number_r)").configure(is_null_level=True),
        ),
        Level("same", cll.ExactMatchLevel("id_number")),
        Level("one character differs", cll.DamerauLevenshteinLevel("id_number", 1)),  # a typo
        Level("different", cll.ElseLevel()),
    ]


def comparison_levels(field_name: str) -> list[Level]:
    """The agreement levels of one compared field, best first; blank is always its own level."""
    if field_name == "name":
        return _name_levels()
    if field_name == "address":
        return _address_levels()
    if field_name == "id_number":
        return _id_number_levels()
    return _exact(field_name)


def level_labels(field_name: str) -> dict[int, str]:
    """Splink numbers a comparison's levels from the best (highest) down to 0; blank is -1."""
    levels = [level for level in comparison_levels(field_name) if not level.creator.is_null_level]
    labels = {len(levels) - 1 - index: level.label for index, level in enumerate(levels)}
    return {-1: "blank" if field_name != "id_number" else "blank or different kinds", **labels}


def _comparison(field_name: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=field_name,
        comparison_levels=[
            cll.NullLevel(field_name),
            *(
                level.creator.configure(label_for_charts=level.label)
                for level in comparison_levels(field_name)
            ),
        ],
    )


def blocking_columns(fields: list[str]) -> list[str]:
    present = set(fields) | ({"name_reading", "name_key"} if "name" in fields else set())
    return [name for name in BLOCKING_FIELDS if name in present]


def add_blocking_keys(records: list[dict[str, Any]], fields: list[str]) -> None:
    """A ``block_<field>`` copy of each blocking field, without the values too common to block on."""
    for column in blocking_columns(fields):
        counts = Counter(record[column] for record in records if record[column] is not None)
        for record in records:
            value = record[column]
            record[f"block_{column}"] = (
                value if value is not None and counts[value] <= MAX_BLOCK_SIZE else None
            )


def _settings(fields: list[str], *, link: bool) -> SettingsCreator:
    return SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on(f"block_{column}") for column in blocking_columns(fields)
        ],
        comparisons=[_comparison(name) for name in fields],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,  # brings the gamma_ agreement levels along
    )


@dataclass
class ModelResult:
    pairs: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    skipped_training: list[str] = field(default_factory=list)


def _table(records: Iterable[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(list(records))


def _rows(frame: SplinkDataFrame) -> list[dict[str, Any]]:
    return list(frame.as_pyarrow_table().to_pylist())  # type: ignore[no-untyped-call]


def _some_pair_agrees_on(sides: list[list[dict[str, Any]]], columns: tuple[str, ...]) -> bool:
    """Whether any pair Splink would compare has the same non-blank blocking values on ``columns``."""
    seen: list[Counter[tuple[Any, ...]]] = []
    for side in sides:
        keys = (tuple(record[f"block_{c}"] for c in columns) for record in side)
        seen.append(Counter(key for key in keys if None not in key))
    if len(seen) == 1:
        return any(count > 1 for count in seen[0].values())
    return bool(seen[0].keys() & seen[1].keys())


def _train(linker: Linker, sides: list[list[dict[str, Any]]], fields: list[str]) -> list[str]:
    """Fit the model; a step the file is too small or too uniform for is skipped and named."""
    skipped: list[str] = []
    columns = set(blocking_columns(fields))
    # A rule no pair satisfies would estimate the prior as zero, which no weight can express.
    deterministic: list[str | BlockingRuleCreator] = [
        block_on(*(f"block_{c}" for c in rule))
        for rule in DETERMINISTIC_RULES
        if columns.issuperset(rule) and _some_pair_agrees_on(sides, rule)
    ]
    if deterministic:
        try:
            linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
        except (ValueError, SplinkException):
            skipped.append("share of matching pairs")
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for column in TRAINING_FIELDS:
        if column not in columns:
            continue
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(f"block_{column}"))
        except (ValueError, SplinkException):
            # No pair shares this field, or every pair that does agrees on everything else:
            # Splink cannot fit from that. The other sessions' estimates stand.
            skipped.append(f"pairs sharing {column}")
    return skipped


def score(
    sides: list[list[dict[str, Any]]], fields: list[str], *, threshold: float, cluster_threshold: float
) -> ModelResult:
    """Pairs at or above ``threshold`` and clusters joined at ``cluster_threshold``.

    ``sides`` holds one list of records for deduplication, two for linkage; each record carries
    ``unique_id`` (and ``source_dataset`` when linking) besides its fields."""
    link = len(sides) == 2
    db_api = DuckDBAPI()
    tables = [db_api.register(_table(side)) for side in sides]
    linker = Linker(tables if link else tables[0], _settings(fields, link=link), log_level="ERROR")
    skipped = _train(linker, sides, fields)
    # Clustering needs every pair above its own threshold, even when fewer pairs are asked for.
    predictions = linker.inference.predict(threshold_match_probability=min(threshold, cluster_threshold))
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=cluster_threshold
    )
    pairs = [pair for pair in _rows(predictions) if float(pair["match_probability"]) >= threshold]
    return ModelResult(pairs=pairs, clusters=_rows(clusters), skipped_training=skipped)
