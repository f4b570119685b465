"""PostgreSQL: model specs, champions, registered versions and dataset profiles."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.monitoring.adapters.tables import dataset_profiles, model_versions, monitored_models
from driftline.monitoring.records import MonitoredModel, TrainedOn
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import ArtifactRef, DatasetRef


class PostgresReferences:
    """What a model is compared against, kept inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save_model(self, model: MonitoredModel) -> None:
        """Insert or update a model's spec facts, keeping its champion."""
        values = {
            "model": model.model, "dataset": model.dataset, "task": model.task,
            "target": model.target, "policy": model.policy.model_dump(mode="json"),
        }  # fmt: skip
        stmt = insert(monitored_models).values(**values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["model"], set_={**values, "updated_at": func.now()}
            )
        )

    async def model(self, name: str) -> MonitoredModel | None:
        """A model's spec facts and champion."""
        row = (
            await self.session.execute(
                select(monitored_models).where(monitored_models.c.model == name)
            )
        ).first()
        if row is None:
            return None
        return MonitoredModel(
            model=row.model, dataset=row.dataset, task=row.task, target=row.target,
            policy=DriftPolicy.model_validate(row.policy), champion=row.champion,
        )  # fmt: skip

    async def set_champion(self, name: str, version: int) -> bool:
        """Record the production version; False when the model's spec is not known yet."""
        result = await self.session.execute(
            update(monitored_models)
            .where(monitored_models.c.model == name)
            .values(champion=version, updated_at=func.now())
            .returning(monitored_models.c.model)
        )
        return result.first() is not None

    async def save_version(self, name: str, version: int, trained: TrainedOn) -> None:
        """Remember the dataset and metrics of a registered version."""
        values = {"dataset": trained.dataset.model_dump(mode="json"), "metrics": trained.metrics}
        stmt = insert(model_versions).values(model=name, version=version, **values)
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["model", "version"], set_=values)
        )

    async def trained_on(self, name: str, version: int) -> TrainedOn | None:
        """What a version trained on, if its registration was seen."""
        row = (
            await self.session.execute(
                select(model_versions).where(
                    model_versions.c.model == name, model_versions.c.version == version
                )
            )
        ).first()
        if row is None:
            return None
        return TrainedOn(DatasetRef.model_validate(row.dataset), dict(row.metrics))

    async def save_profile(self, dataset: DatasetRef, profile: ArtifactRef) -> None:
        """Remember the profile validation computed for a dataset version."""
        values = {
            "version": dataset.version, "ref": dataset.model_dump(mode="json"),
            "profile": profile.model_dump(mode="json"),
        }  # fmt: skip
        stmt = insert(dataset_profiles).values(
            dataset=dataset.name, sha256=dataset.sha256, **values
        )
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["dataset", "sha256"], set_=values)
        )

    async def profile(
        self, dataset: str, sha256: str | None = None
    ) -> tuple[DatasetRef, ArtifactRef] | None:
        """The profile of those exact bytes, or (no sha256) of the newest validated version."""
        query = select(dataset_profiles).where(dataset_profiles.c.dataset == dataset)
        if sha256 is not None:
            query = query.where(dataset_profiles.c.sha256 == sha256)
        newest = (
            dataset_profiles.c.version.desc().nulls_last(),
            dataset_profiles.c.created_at.desc(),
        )
        row = (await self.session.execute(query.order_by(*newest).limit(1))).first()
        if row is None:
            return None
        return DatasetRef.model_validate(row.ref), ArtifactRef.model_validate(row.profile)
