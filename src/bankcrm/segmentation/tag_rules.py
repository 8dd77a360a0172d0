"""Rule and model tags: tags of the customers' catalogue that the scoring run sets.

A rule tag holds a segment rule (segmentation.rules): after each run, exactly the customers meeting
it hold the tag. A model tag names an active propensity model's band ("churn: high"): the
customers the model puts there hold it. Either way the customers module keeps who gained and who
lost the tag on which run and why (``customer_tag_event``), so a tag's history survives the tag's
holders changing every night.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bankcrm.core.context import Actor
from bankcrm.core.lake import Lake
from bankcrm.core.principal import Principal
from bankcrm.customers.schemas import TagIn, TagOut
from bankcrm.customers.service import tags as customer_tags
from bankcrm.segmentation import repository as repo
from bankcrm.segmentation import service as segments
from bankcrm.segmentation.models import TagRule
from bankcrm.segmentation.rules import parse_rule
from bankcrm.segmentation.schemas import ModelTagIn, RuleTagIn
from bankcrm.segmentation.studio import service as studio


@dataclass(frozen=True)
class TagRun:
    code: str
    gained: int
    lost: int


def _catalogue_entry(data: RuleTagIn | ModelTagIn) -> TagIn:
    return TagIn(code=data.code, name=data.name, category=data.category, description=data.description)


def create_rule_tag(session: Session, principal: Principal, lake: Lake, *, data: RuleTagIn) -> TagOut:
    """A rule tag, set at once on the latest run when there is one."""
    rule = segments.checked_rule(session, principal, data.rule)
    tag = customer_tags.create_tag(session, principal, data=_catalogue_entry(data), kind="rule")
    stored = json.dumps(segments.rule_data(rule), ensure_ascii=False)
    repo.add(session, TagRule(tag_id=tag.id, rule=stored, updated_by=principal.user_id))
    session.flush()
    if segments.scored_dates(lake):
        _recompute(session, lake, repo.tag_rule(session, tag.id), as_of=segments.latest_scored_date(lake))
    return tag


def create_model_tag(session: Session, principal: Principal, lake: Lake, *, data: ModelTagIn) -> TagOut:
    """A model tag, set at once from the active model's latest scores."""
    tag = customer_tags.create_tag(session, principal, data=_catalogue_entry(data), kind="model")
    stored = json.dumps({"model": {"target": data.target, "bands": list(data.bands)}})
    repo.add(session, TagRule(tag_id=tag.id, rule=stored, updated_by=principal.user_id))
    session.flush()
    if segments.scored_dates(lake):
        _recompute(session, lake, repo.tag_rule(session, tag.id), as_of=segments.latest_scored_date(lake))
    return tag


def _members(session: Session, lake: Lake, rule: dict[str, Any], *, as_of: date) -> tuple[list[int], str]:
    """Who holds the tag on ``as_of``, and the reason kept with each gain or loss."""
    if "model" in rule:
        target, bands = rule["model"]["target"], rule["model"]["bands"]
        return studio.band_members(session, target=target, bands=bands), f"model {target}: {', '.join(bands)}"
    parsed = parse_rule(rule)
    backend = segments.rule_backend(lake, parsed, as_of=as_of)
    found = segments.compute_members(session, lake, backend, parsed, as_of=as_of)
    return [int(c) for c in found], "rule " + json.dumps(rule, ensure_ascii=False)


def _recompute(session: Session, lake: Lake, tag_rule: TagRule | None, *, as_of: date) -> TagRun | None:
    if tag_rule is None:
        return None
    ids, reason = _members(session, lake, json.loads(tag_rule.rule), as_of=as_of)
    synced = customer_tags.sync_tag_members(
        session, Actor.system("score"), tag_id=tag_rule.tag_id, customer_ids=ids, as_of=as_of, reason=reason
    )
    return TagRun(code=str(tag_rule.tag_id), gained=synced.gained, lost=synced.lost)


def recompute_tags(session: Session, lake: Lake, *, as_of: date) -> list[TagRun]:
    """The nightly run's part: every rule and model tag set anew as of ``as_of``."""
    runs = [_recompute(session, lake, tag_rule, as_of=as_of) for tag_rule in repo.tag_rules(session)]
    return [run for run in runs if run is not None]
