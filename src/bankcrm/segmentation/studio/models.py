"""Tables of the model studio: trained propensity models (with their card) and customers' latest scores."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankcrm.core.db import Base, utcnow


class PropensityModel(Base):
    """A trained model and its card. One model per target is ``active`` (it scores the customers
    nightly); a newer one activated for the same target retires it."""

    __tablename__ = "propensity_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(40), index=True)  # churn | column:<name>
    target_definition: Mapped[str] = mapped_column(Text)  # in words, for the card
    features: Mapped[str] = mapped_column(Text)  # JSON list, in the model's order
    metrics: Mapped[str] = mapped_column(Text)  # JSON: both models' metrics, split, leakage warnings
    training_data: Mapped[str] = mapped_column(Text)  # where the rows came from, in words
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | active | retired
    author_id: Mapped[int | None]
    author_name: Mapped[str] = mapped_column(String(100))
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    model_text: Mapped[str] = mapped_column(Text)  # LightGBM's own text format


class PropensityScore(Base):
    """A customer's latest score by a model, with the features that pushed it most (JSON list of
    ``{feature, value, contribution}``); each scoring run replaces the model's rows."""

    __tablename__ = "propensity_score"
    __table_args__ = (
        UniqueConstraint("model_id", "customer_id"),
        Index("ix_propensity_score_model_band", "model_id", "band"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("propensity_model.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    score: Mapped[float]
    band: Mapped[str] = mapped_column(String(8))  # high | medium | low, by rank in the run
    factors: Mapped[str] = mapped_column(Text)
    as_of: Mapped[date]
