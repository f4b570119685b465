"""A regression model on a real public dataset, through every automatic decision, unattended.

Seattle's daily weather 2012-2015 (``vega_datasets``' wheel ships it: 1,461 days; target the
day's maximum temperature; features precipitation, minimum temperature, wind and the
``weather`` string category). The story on the local stack, with every service a process:

1. two slices of cold months (Nov-Mar) are uploaded one after the other; the second, a
   ``;``-delimited CSV, holds the three hottest summer days before 2015, out of the range
   learnt from the first: accepted with a warning;
2. the spec is applied: the first run trains on both accepted versions; v1 is promoted;
3. production serves summer days (a sub-population the model never saw) with their true
   temperatures: monitoring raises DriftDetected;
4. the drift retrain trains on both versions plus the labelled summer rows; its gate compares
   it with v1 on the same holdout rows; its canary is judged on labelled error and promoted;
5. on summer days of 2015 (never sent as feedback) v2's error is far below v1's.

The serving contract is checked on the way: an unseen category and a case variant are served
with a warning naming them, a string where a number was trained is a 422 naming the field.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import io
import math
import statistics
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from scipy.stats import ttest_rel

from driftline.runtime.services import SERVICE_NAMES
from driftline.stack import LocalStack
from driftline.stack.services import ServiceProcess, start_services, stop_services
from driftline.stack.services import wait_until_ready as wait_ready
from driftline_contracts import topics
from driftline_contracts.codec import decode
from tests.integration.kafka_helpers import header, read_all
from tests.tokens import stack_headers

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UID = uuid.uuid4().hex[:6]
MODEL, DATASET = f"seattle-temp-{UID}", f"seattle-weather-{UID}"
FEATURES = ["precipitation", "temp_min", "wind", "weather"]
SPEC: dict[str, Any] = {
    "model": MODEL,
    "dataset": DATASET,
    "target": "temp_max",
    "task": "regression",
    "features": FEATURES,
    "trainer": {
        "estimator": "sklearn.ensemble.RandomForestRegressor",
        "params": {"n_estimators": 40, "max_depth": 8, "min_samples_leaf": 2},
    },
    "split": {"holdout": 0.25, "seed": 7},
    "gates": [{"metric": "rmse", "beat_champion": 0.0}],
    "canary": {"steps": [50.0, 100.0], "min_requests": 40, "min_duration_s": 0},
    "drift": {"window_size": 150},
}
FAST = {
    "DRIFTLINE_DEPLOYMENT__JUDGE_INTERVAL_S": "0.5",
    "DRIFTLINE_DEPLOYMENT__LOG_FLUSH_INTERVAL_S": "0.5",
    "DRIFTLINE_DEPLOYMENT__LATENCY_ALLOWED_INCREASE": "50",  # two loaded cores: noise
    "DRIFTLINE_TRAINING__POLL_INTERVAL_S": "0.5",
}
NEEDED = ("ingest", "validation", "training", "registry", "deployment", "monitoring")


def seattle() -> pd.DataFrame:
    """The wheel's copy of Seattle's weather, with the month and year of each day."""
    data = importlib.resources.files("vega_datasets") / "_data" / "seattle-weather.csv"
    frame = pd.read_csv(io.BytesIO(data.read_bytes()))
    dates = pd.to_datetime(frame.pop("date"))
    return frame.assign(month=dates.dt.month, year=dates.dt.year)


def slices(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cold months of 2012-2013, then of 2014-2015 with the three hottest days before 2015."""
    cold = frame[frame["month"].isin([11, 12, 1, 2, 3])]
    first = cold[cold["year"] <= 2013]
    hottest = frame[frame["year"] <= 2014].nlargest(3, "temp_max")  # 2015 is for judging
    second = pd.concat([cold[cold["year"] >= 2014], hottest])
    return first, second


def summer(frame: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """June to August of ``years``: the shifted sub-population production sees."""
    return frame[frame["month"].isin([6, 7, 8]) & frame["year"].isin(years)]


def csv_of(frame: pd.DataFrame, sep: str = ",") -> bytes:
    return frame[[*FEATURES, "temp_max"]].to_csv(index=False, sep=sep).encode()


def rows_of(frame: pd.DataFrame) -> tuple[list[dict[str, Any]], list[float]]:
    return frame[FEATURES].to_dict(orient="records"), frame["temp_max"].tolist()


@pytest.fixture(scope="module")
def services(own_stack: LocalStack) -> Iterator[dict[str, ServiceProcess]]:
    """The services the story needs, each a ``driftline serve`` process."""
    wanted = [name for name in SERVICE_NAMES if name in NEEDED]
    processes = start_services(own_stack, own_stack.info(), wanted, extra_env=FAST)
    try:
        wait_ready(processes, timeout_s=120)
        yield {p.name: p for p in processes}
    finally:
        stop_services(own_stack, processes)


class Story:
    """HTTP and the event stream of one stack, as a user and an auditor see them."""

    def __init__(self, stack: LocalStack, services: dict[str, ServiceProcess]) -> None:
        self.info = stack.info()
        self.url = {name: p.url for name, p in services.items()}
        self.http = httpx.AsyncClient(timeout=30, headers=stack_headers(self.info, "publisher"))

    async def events(self, topic: str, subject: str) -> list[Any]:
        """Events on ``topic`` about ``subject``, once each, in order."""
        records = await read_all(
            self.info.kafka_bootstrap, topic, lambda r: header(r, "ce_subject") == subject
        )
        unique: dict[str, Any] = {}
        for record in records:
            envelope, event = decode(record.headers, record.value)
            unique.setdefault(envelope.id, event)
        return list(unique.values())

    async def until(
        self, what: str, check: Callable[[], Any], timeout_s: float = 120, between: Any = None
    ) -> Any:
        """Poll ``check`` (awaiting ``between`` each round) until it returns something."""
        try:
            async with asyncio.timeout(timeout_s):
                while not (found := await check()):
                    await (between() if between else asyncio.sleep(0.5))
                return found
        except TimeoutError:
            pytest.fail(f"timed out after {timeout_s} s waiting until {what}")

    async def upload(self, frame: pd.DataFrame, sep: str = ",") -> None:
        answer = await self.http.post(
            f"{self.url['ingest']}/v1/datasets/{DATASET}",
            content=csv_of(frame, sep),
            headers={"Content-Type": "text/csv"},
        )
        assert answer.status_code == 201, answer.text

    async def predict(self, rows: list[dict[str, Any]]) -> httpx.Response:
        return await self.http.post(
            f"{self.url['deployment']}/v1/models/{MODEL}/predict", json={"instances": rows}
        )

    async def serve_labelled(self, rows: list[dict[str, Any]], labels: list[float]) -> None:
        """Production: score the rows in batches, then send their true temperatures."""
        for start in range(0, len(rows), 50):
            answer = await self.predict(rows[start : start + 50])
            assert answer.status_code == 200, answer.text
            ids = [p["request_id"] for p in answer.json()["predictions"]]
            truth = dict(zip(ids, labels[start : start + 50], strict=True))
            sent = await self.http.post(
                f"{self.url['deployment']}/v1/models/{MODEL}/feedback", json={"labels": truth}
            )
            assert sent.status_code == 200, sent.text

    async def errors(self, rows: list[dict[str, Any]], labels: list[float]) -> list[float]:
        """Absolute error per row of what the champion answers now (no feedback sent)."""
        answer = await self.predict(rows)
        assert answer.status_code == 200, answer.text
        predicted = [p["prediction"] for p in answer.json()["predictions"]]
        assert {p["variant"] for p in answer.json()["predictions"]} == {"champion"}
        return [abs(p - y) for p, y in zip(predicted, labels, strict=True)]


async def test_a_regression_model_recovers_from_a_shifted_sub_population(
    own_stack: LocalStack, services: dict[str, ServiceProcess]
) -> None:
    story, frame = Story(own_stack, services), seattle()
    first, second = slices(frame)

    # 1. Slices over time: the second's three summer days are a warning, not a rejection.
    await story.upload(first)
    await story.until("v1 is accepted", lambda: story.events(topics.DATA_VALIDATED, DATASET))
    await story.upload(second, sep=";")  # another exporter: validated and trained alike
    validated = await story.until(
        "v2 is accepted",
        lambda: _at_least(story.events(topics.DATA_VALIDATED, DATASET), 2),
    )
    assert await story.events(topics.DATA_REJECTED, DATASET) == []
    out_of_range = {w.field: w.message for w in validated[1].warnings if w.code == "out_of_range"}
    assert "observed 3 outside" in out_of_range["temp_max"], validated[1].warnings

    # 2. The spec: the first run reads both accepted versions; v1 goes live.
    applied = await story.http.post(f"{story.url['registry']}/v1/specs", json=SPEC)
    assert applied.status_code in (200, 201), applied.text
    (trained,) = await story.until(
        "v1 is trained", lambda: story.events(topics.MODEL_TRAINED, MODEL), timeout_s=180
    )
    assert [d.version for d in trained.datasets] == [1, 2]
    distinct = pd.concat([first, second])[[*FEATURES, "temp_max"]].drop_duplicates()
    assert len(distinct) < len(first) + len(second)  # a few days repeat: each trains once
    assert trained.train_rows + trained.holdout_rows == len(distinct)
    assert trained.labelled_rows == 0
    await story.until(
        "v1 is promoted", lambda: story.events(topics.MODEL_PROMOTED, MODEL), timeout_s=60
    )

    # The serving contract of v1, as a caller reads it.
    row = rows_of(first.head(1))[0][0]
    hail = (await story.predict([{**row, "weather": "hail"}, {**row, "weather": "Sun"}])).json()
    warned = [p["warnings"] for p in hail["predictions"]]
    assert warned[0][0]["code"] == "unseen_category"
    assert warned[0][0]["msg"].startswith("unseen category 'hail' for 'weather' (training saw")
    assert warned[1][0]["msg"] == (
        "'Sun' for 'weather' is a case variant of 'sun', never seen in training"
    )
    wrong = await story.predict([{**row, "temp_min": "warm"}])
    assert wrong.status_code == 422
    (problem,) = wrong.json()["detail"]
    assert problem["loc"] == ["body", "instances", 0, "temp_min"]
    assert problem["msg"].startswith("feature 'temp_min' (row 0) must be a number")

    # 3. Production sees summer: v1 has never seen one; the true temperatures come back.
    held_out = rows_of(summer(frame, [2015]))
    before = await story.errors(*held_out)
    traffic = rows_of(summer(frame, [2012, 2013, 2014]).sample(frac=1, random_state=3))
    await story.serve_labelled(*traffic)
    await story.until(
        "monitoring detects the drift",
        lambda: story.events(topics.DRIFT_DETECTED, MODEL),
        timeout_s=120,
    )
    await _monitoring_counts_the_flagged_rows(story)

    # 4. The retrain: accumulated versions plus labelled rows, compared on the same holdout.
    retrained = (
        await story.until(
            "the drift retrain finishes",
            lambda: _at_least(story.events(topics.MODEL_TRAINED, MODEL), 2),
            timeout_s=180,
        )
    )[1]
    assert [d.version for d in retrained.datasets] == [1, 2]
    assert retrained.labelled_rows > 0
    comparison = retrained.champion_comparison
    assert comparison is not None
    assert (comparison.status, comparison.rows > 0) == ("compared", True), comparison
    (rmse,) = [m for m in comparison.metrics if m.metric == "rmse"]
    assert rmse.interval_low <= rmse.delta <= rmse.interval_high, rmse

    async def promoted_v2() -> Any:
        found = await story.events(topics.MODEL_PROMOTED, MODEL)
        return [p for p in found if p.model.version == 2]

    async def more_traffic() -> None:
        await story.serve_labelled(*(column[:100] for column in traffic))

    (promotion,) = await story.until(
        "v2's canary is judged and promoted", promoted_v2, timeout_s=180, between=more_traffic
    )
    assert promotion.via == "canary"
    judged = {r.metric for r in promotion.results if r.passed}
    assert judged & {"mae", "rmse", "abs_error"}, promotion.results
    assert await story.events(topics.CANARY_ROLLED_BACK, MODEL) == []

    # 5. On summer days nobody labelled, the new champion is measurably better.
    after = await story.errors(*held_out)
    gain = [old - new for old, new in zip(before, after, strict=True)]
    mean, spread = statistics.fmean(gain), statistics.stdev(gain) / math.sqrt(len(gain))
    paired = ttest_rel(before, after, alternative="greater")
    figures = (f"MAE on {len(gain)} unlabelled summer days: v1 {statistics.fmean(before):.2f}, "
               f"v2 {statistics.fmean(after):.2f}; paired gain {mean:.2f} ± {spread:.2f} (1 se), "
               f"one-sided p {paired.pvalue:.1e}; retrain: {retrained.labelled_rows} labelled "
               "rows")  # fmt: skip
    print(figures)
    assert paired.pvalue < 0.01, figures  # lower on the same days, beyond chance at 1%


async def _monitoring_counts_the_flagged_rows(story: Story) -> None:
    """The unseen 'hail' and the case variant 'Sun' served above reach monitoring with their
    rows: counted in the window that holds them (JSON and HTML report) and on /metrics."""
    monitoring = story.url["monitoring"]
    windows = (await story.http.get(f"{monitoring}/v1/models/{MODEL}/drift/windows")).json()
    counts: dict[tuple[str, str], int] = {}
    for window in windows:
        report = await story.http.get(
            f"{monitoring}/v1/models/{MODEL}/drift/windows/{window['seq']}"
        )
        for count in report.json()["row_flags"]["counts"]:
            key = (count["feature"], count["code"])
            counts[key] = counts.get(key, 0) + count["rows"]
            if key == ("weather", "unseen_category"):
                assert count["examples"]["hail"] >= 1, count
    assert counts.get(("weather", "unseen_category"), 0) >= 1, counts
    assert counts.get(("weather", "case_variant"), 0) >= 1, counts
    metrics = (await story.http.get(f"{monitoring}/metrics")).text
    flagged = {
        (s.labels["feature"], s.labels["code"]): s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
        if s.name == "driftline_monitoring_flagged_rows_total" and s.labels["model"] == MODEL
    }
    assert flagged.get(("weather", "unseen_category"), 0) >= 1, metrics
    html = (await story.http.get(f"{monitoring}/v1/models/{MODEL}/drift?format=html")).text
    assert "Rows flagged at serving" in html  # the section, flagged rows or none


async def _at_least(found: Any, count: int) -> list[Any] | None:
    events = await found
    return events if len(events) >= count else None
