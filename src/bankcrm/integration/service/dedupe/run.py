"""Deduplicate one file or link two: check the input, score, write ``pairs.csv`` and ``clusters.csv``.

Everything about the input is checked before anything is written, so bad input changes nothing;
the two result files are written next to each other and replace earlier ones only when complete.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bankcrm.integration.service.dedupe.model import (
    SOURCE_A,
    SOURCE_B,
    ModelResult,
    add_blocking_keys,
    level_labels,
    score,
)
from bankcrm.integration.service.dedupe.roles import (
    NAME_READINGS,
    compared_fields,
    standardise,
)
from bankcrm.integration.service.dedupe.tables import DedupeInputError, Table, read_table

DEFAULT_THRESHOLD = 0.8
DEFAULT_CLUSTER_THRESHOLD = 0.99  # the auto-merge threshold of matching: a cluster is what would merge
MIN_FIELDS = 2  # one field alone cannot tell two people with the same name apart


@dataclass(frozen=True)
class InputFile:
    """A user's file and what its columns mean: ``columns`` maps a role to a column name."""

    path: Path
    id_column: str
    columns: dict[str, str]
    encoding: str | None = None


@dataclass
class LoadedFile:
    source: InputFile
    label: str
    records: list[dict[str, Any]]
    unreadable: Counter[str]


@dataclass
class DedupeSummary:
    records: int
    pairs: int
    clusters: int
    largest_cluster: int
    seconds: float
    pairs_file: Path
    clusters_file: Path
    fields: list[str]
    unreadable: dict[str, int] = field(default_factory=dict)
    skipped_training: list[str] = field(default_factory=list)


def default_output_folder(*paths: Path) -> Path:
    """Next to the (first) input, named after the input(s): customers.csv → customers-dedupe/."""
    suffix = "link" if len(paths) > 1 else "dedupe"
    return paths[0].parent / ("-".join(path.stem for path in paths) + f"-{suffix}")


def dedupe_file(
    source: InputFile,
    *,
    out: Path,
    threshold: float = DEFAULT_THRESHOLD,
    cluster_threshold: float = DEFAULT_CLUSTER_THRESHOLD,
) -> DedupeSummary:
    """Find the records of one file that are the same person."""
    started = time.monotonic()
    _check_settings(out, threshold, cluster_threshold)
    loaded = _load(source, label=source.path.name)
    fields = _usable_fields([loaded])
    return _score_and_write([loaded], fields, out, threshold, cluster_threshold, started)


def link_files(
    first: InputFile,
    second: InputFile,
    *,
    out: Path,
    threshold: float = DEFAULT_THRESHOLD,
    cluster_threshold: float = DEFAULT_CLUSTER_THRESHOLD,
) -> DedupeSummary:
    """Find the records of the second file that are the same person as records of the first."""
    started = time.monotonic()
    _check_settings(out, threshold, cluster_threshold)
    fields_a, fields_b = compared_fields(first.columns), compared_fields(second.columns)
    if fields_a != fields_b:
        only = sorted(set(fields_a) ^ set(fields_b))
        raise DedupeInputError(
            f"Both files need the same roles to compare; given for one file only: {', '.join(only)}."
        )
    labels = _source_labels(first.path, second.path)
    files = [_load(first, label=labels[0]), _load(second, label=labels[1])]
    fields = _usable_fields(files)
    return _score_and_write(files, fields, out, threshold, cluster_threshold, started)


def _check_settings(out: Path, threshold: float, cluster_threshold: float) -> None:
    if out.exists() and not out.is_dir():
        raise DedupeInputError(f"--out {out} is a file; name a folder for pairs.csv and clusters.csv.")
    for name, value in (("--threshold", threshold), ("--cluster-threshold", cluster_threshold)):
        if not 0.0 < value <= 1.0:
            raise DedupeInputError(f"{name} is a probability above 0 and at most 1, got {value}.")


def _source_labels(first: Path, second: Path) -> tuple[str, str]:
    if first.name != second.name:
        return first.name, second.name
    return str(first), str(second)


def _load(source: InputFile, *, label: str) -> LoadedFile:
    table = read_table(source.path, encoding=source.encoding)
    _check_columns(table, source)
    if not table.rows:
        raise DedupeInputError(f"{table.path.name} has a header but no records.")
    ids = _checked_ids(table, source.id_column)
    records: list[dict[str, Any]] = []
    unreadable: Counter[str] = Counter()
    for record_id, raw in zip(ids, table.rows, strict=True):
        fields, problems = standardise(raw, source.columns)
        unreadable.update(problems)
        records.append({"unique_id": record_id, **fields})
    return LoadedFile(source=source, label=label, records=records, unreadable=unreadable)


def _check_columns(table: Table, source: InputFile) -> None:
    known = ", ".join(table.columns)
    if source.id_column not in table.columns:
        raise DedupeInputError(
            f"{table.path.name} has no id column {source.id_column!r}; its columns are: {known}."
        )
    for role, column in source.columns.items():
        if column not in table.columns:
            raise DedupeInputError(
                f"{table.path.name} has no column {column!r} (given for {role}); its columns are: {known}."
            )


def _checked_ids(table: Table, id_column: str) -> list[str]:
    ids = [row.get(id_column, "").strip() for row in table.rows]
    for number, record_id in enumerate(ids, start=1):
        if not record_id:
            raise DedupeInputError(f"{table.path.name}: data row {number} has no value in {id_column!r}.")
    seen: set[str] = set()
    for record_id in ids:
        if record_id in seen:
            raise DedupeInputError(
                f"{table.path.name}: the id {record_id!r} appears more than once in {id_column!r}; "
                "each record needs its own id."
            )
        seen.add(record_id)
    return ids


def _usable_fields(files: list[LoadedFile]) -> list[str]:
    """The compared fields with a value somewhere in every file; at least two are needed."""
    fields = compared_fields(files[0].source.columns)
    usable = [name for name in fields if all(_has_values(f.records, name) for f in files)]
    if len(usable) < MIN_FIELDS:
        roles = ", ".join(files[0].source.columns)
        empty = [name for name in fields if name not in usable]
        raise DedupeInputError(
            "At least two usable roles are needed to tell people apart (given name and surname count "
            f"as one name); given: {roles}" + (f"; without any value: {', '.join(empty)}." if empty else ".")
        )
    return usable


def _has_values(records: list[dict[str, Any]], field_name: str) -> bool:
    return any(record.get(field_name) is not None for record in records)


def _score_and_write(
    files: list[LoadedFile],
    fields: list[str],
    out: Path,
    threshold: float,
    cluster_threshold: float,
    started: float,
) -> DedupeSummary:
    sides = [_model_records(f, fields, SOURCE_A if index == 0 else SOURCE_B) for index, f in enumerate(files)]
    add_blocking_keys([record for side in sides for record in side], fields)
    records = sum(len(side) for side in sides)
    result = ModelResult(pairs=[], clusters=[])
    if records >= 2:  # a lone record has nobody to be compared with (and nothing to train on)
        result = score(sides, fields, threshold=threshold, cluster_threshold=cluster_threshold)
    clusters = _numbered_clusters(sides, _splink_clusters(result))
    labels = {SOURCE_A: files[0].label, SOURCE_B: files[-1].label}
    pairs_file, clusters_file = _write_outputs(
        out, fields, labels, result.pairs, clusters, link=len(files) == 2
    )
    sizes = Counter(cluster for cluster, _ in clusters)
    return DedupeSummary(
        records=records,
        pairs=len(result.pairs),
        clusters=len(sizes),
        largest_cluster=max(sizes.values(), default=0),
        seconds=time.monotonic() - started,
        pairs_file=pairs_file,
        clusters_file=clusters_file,
        fields=fields,
        unreadable=dict(sum((f.unreadable for f in files), Counter())),
        skipped_training=result.skipped_training,
    )


def _splink_clusters(result: ModelResult) -> dict[tuple[str, str], str]:
    """(side, record id) → Splink's cluster id."""
    return {
        (str(row.get("source_dataset", SOURCE_A)), str(row["unique_id"])): str(row["cluster_id"])
        for row in result.clusters
    }


def _write_outputs(
    out: Path,
    fields: list[str],
    labels: dict[str, str],
    pairs: list[dict[str, Any]],
    clusters: list[tuple[int, tuple[str, str]]],
    *,
    link: bool,
) -> tuple[Path, Path]:
    # Rows are formed before the folder is touched: a failure on the way writes nothing.
    pair_rows = list(_pair_rows(pairs, fields, labels, link=link))
    cluster_rows = list(_cluster_rows(clusters, labels, link))
    out.mkdir(parents=True, exist_ok=True)
    pairs_file, clusters_file = out / "pairs.csv", out / "clusters.csv"
    _write_csv(pairs_file, _pair_header(fields, link=link), pair_rows)
    _write_csv(clusters_file, ["cluster_id", "id", *(["source"] if link else [])], cluster_rows)
    return pairs_file, clusters_file


def _model_records(loaded: LoadedFile, fields: list[str], side: str) -> list[dict[str, Any]]:
    """Only the usable fields (and the name's readings) go to the model."""
    kept = [*fields, *(NAME_READINGS if "name" in fields else ())]
    return [
        {"unique_id": r["unique_id"], "source_dataset": side, **{name: r.get(name) for name in kept}}
        for r in loaded.records
    ]


def _numbered_clusters(
    sides: list[list[dict[str, Any]]], cluster_of: dict[tuple[str, str], str]
) -> list[tuple[int, tuple[str, str]]]:
    """Every record once, with clusters numbered from 1, largest first, ties in file order.
    A record Splink did not place (only possible when nothing was scored) is its own cluster."""
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for side in sides:
        for record in side:
            key = (record["source_dataset"], record["unique_id"])
            members[cluster_of.get(key, f"single:{key}")].append(key)
    ordered = sorted(members.values(), key=len, reverse=True)  # stable: ties keep file order
    return [(number, key) for number, group in enumerate(ordered, start=1) for key in group]


def _pair_header(fields: list[str], *, link: bool) -> list[str]:
    sources = ["source_l", "source_r"] if link else []
    return ["id_l", "id_r", *sources, "match_probability", "match_weight", *fields]


def _pair_rows(
    pairs: list[dict[str, Any]], fields: list[str], labels: dict[str, str], *, link: bool
) -> Iterator[list[Any]]:
    level_names = {name: level_labels(name) for name in fields}
    for pair in sorted(pairs, key=lambda p: (-float(p["match_probability"]), str(p["unique_id_l"]))):
        left, right = "l", "r"
        if link and pair.get("source_dataset_l") != SOURCE_A:
            left, right = right, left  # the first file's record always on the left
        sources = [labels[SOURCE_A], labels[SOURCE_B]] if link else []
        yield [
            pair[f"unique_id_{left}"],
            pair[f"unique_id_{right}"],
            *sources,
            f"{float(pair['match_probability']):.6f}",
            f"{float(pair['match_weight']):.3f}",
            *(level_names[name].get(int(pair[f"gamma_{name}"]), "") for name in fields),
        ]


def _cluster_rows(
    clusters: list[tuple[int, tuple[str, str]]], labels: dict[str, str], link: bool
) -> Iterator[list[Any]]:
    for number, (side, record_id) in clusters:
        yield [number, record_id, labels[side]] if link else [number, record_id]


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Written beside the target and renamed over it, so a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            writer.writerows(rows)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
