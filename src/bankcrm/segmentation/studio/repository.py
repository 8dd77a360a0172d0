"""All SQL of the model studio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from bankcrm.segmentation.studio.models import PropensityModel, PropensityScore


def add_model(session: Session, model: PropensityModel) -> PropensityModel:
    session.add(model)
    session.flush()  # id needed for the audit row
    return model


def list_models(session: Session) -> Sequence[PropensityModel]:
    return session.scalars(select(PropensityModel).order_by(PropensityModel.trained_at.desc())).all()


def find_model(session: Session, model_id: int) -> PropensityModel | None:
    return session.get(PropensityModel, model_id)


def active_models(session: Session) -> Sequence[PropensityModel]:
    stmt = select(PropensityModel).where(PropensityModel.status == "active").order_by(PropensityModel.id)
    return session.scalars(stmt).all()


def retire_active(session: Session, target: str) -> list[int]:
    """Retire whichever model is active for ``target``; the ids retired, for the audit row."""
    stmt = (
        update(PropensityModel)
        .where(PropensityModel.target == target, PropensityModel.status == "active")
        .values(status="retired")
        .returning(PropensityModel.id)
    )
    return [int(row) for row in session.scalars(stmt).all()]


def replace_scores(session: Session, model_id: int, rows: list[dict[str, Any]]) -> None:
    session.execute(delete(PropensityScore).where(PropensityScore.model_id == model_id))
    if rows:
        session.execute(insert(PropensityScore), rows)


def scores_of_customer(session: Session, customer_id: int) -> list[tuple[PropensityScore, PropensityModel]]:
    stmt = (
        select(PropensityScore, PropensityModel)
        .join(PropensityModel, PropensityModel.id == PropensityScore.model_id)
        .where(PropensityScore.customer_id == customer_id, PropensityModel.status == "active")
        .order_by(PropensityModel.name)
    )
    return [(score, model) for score, model in session.execute(stmt).all()]


def score_count(session: Session, model_id: int) -> int:
    stmt = select(func.count()).select_from(PropensityScore).where(PropensityScore.model_id == model_id)
    return int(session.scalar(stmt) or 0)


def active_scores(session: Session, target: str, *, at_least: float) -> dict[int, float]:
    """Customer id -> score of the active model for ``target``, for scores of ``at_least`` or more."""
    stmt = (
        select(PropensityScore.customer_id, PropensityScore.score)
        .join(PropensityModel, PropensityModel.id == PropensityScore.model_id)
        .where(
            PropensityModel.target == target,
            PropensityModel.status == "active",
            PropensityScore.score >= at_least,
        )
    )
    return {int(customer_id): float(score) for customer_id, score in session.execute(stmt).all()}


def active_band_members(session: Session, target: str, bands: Sequence[str]) -> list[int]:
    """Customers the active model for ``target`` puts in one of ``bands``."""
    stmt = (
        select(PropensityScore.customer_id)
        .join(PropensityModel, PropensityModel.id == PropensityScore.model_id)
        .where(
            PropensityModel.target == target,
            PropensityModel.status == "active",
            PropensityScore.band.in_(bands),
        )
        .order_by(PropensityScore.customer_id)
    )
    return [int(c) for c in session.execute(stmt).scalars()]
