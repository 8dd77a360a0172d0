"""The ``bankcrm cluster`` command: cluster a scoring run's customers and print the k table and clusters."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bankcrm.core.config import get_settings
from bankcrm.core.errors import DomainError, ValidationFailed
from bankcrm.core.i18n import N_, translate
from bankcrm.core.lake import Lake
from bankcrm.segmentation.clustering import K_RANGE, ClusterProfile, ClusterRun, run_clustering

_console = Console(soft_wrap=True)
_errors = Console(stderr=True, soft_wrap=True)
NEAR_AVERAGE = N_("close to the book's average")


def describe(cluster: ClusterProfile, locale: str) -> str:
    """The cluster in words, e.g. "young, digital, low AUM" / "年轻、数字渠道活跃、资产较低"."""
    words = [translate(locale, word) for word in cluster.words]
    return translate(locale, N_(", ")).join(words) if words else translate(locale, NEAR_AVERAGE)


def _problem(error: DomainError) -> str:
    if isinstance(error, ValidationFailed):
        return "; ".join(f"{p.field}: {translate('en', p.message, p.params)}" for p in error.problems)
    return translate("en", error.message, error.params)


def cluster(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date of the scoring run to cluster (YYYY-MM-DD); default the latest."),
    ] = None,
    k: Annotated[
        int | None,
        typer.Option(
            "--k", help=f"Number of clusters ({K_RANGE[0]}-{K_RANGE[-1]}); default chosen by silhouette."
        ),
    ] = None,
) -> None:
    """Group customers by k-means on their standardised features and describe each group in words."""
    try:
        day = date.fromisoformat(as_of) if as_of is not None else None
    except ValueError:
        _errors.print(
            f"--as-of {as_of!r} is not a date of the form YYYY-MM-DD.", style="red", highlight=False
        )
        raise typer.Exit(2) from None
    try:
        run = run_clustering(Lake(get_settings().lake_root), as_of=day, k=k)
    except DomainError as error:
        _errors.print(_problem(error), style="red", highlight=False)
        raise typer.Exit(2) from None
    _report(run)


def _report(run: ClusterRun) -> None:
    how = "given with --k" if run.given else "the highest mean silhouette"
    _console.print(
        f"Scoring run as of {run.as_of.isoformat()}: {run.customers:,} customers; "
        f"silhouette on {run.sample_rows:,} of them; k = {run.k} ({how}).",
        highlight=False,
    )
    choice = Table("k", "mean silhouette", "")
    for score in run.k_scores:
        shown = "—" if score.silhouette is None else f"{score.silhouette:.3f}"
        choice.add_row(str(score.k), shown, "chosen" if score.chosen else "")
    _console.print(choice)
    clusters = Table("cluster", "customers", "share")
    for heading in ("described as", "描述"):
        clusters.add_column(heading, overflow="fold")  # words are the point: wrap, never cut
    for profile in run.clusters:
        clusters.add_row(
            str(profile.cluster),
            f"{profile.customers:,}",
            f"{profile.share:.1%}",
            describe(profile, "en"),
            describe(profile, "zh_CN"),
        )
    _console.print(clusters)
