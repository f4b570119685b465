"""Validation decisions on frames, with specs and baselines passed in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftline.stats.profile import profile_frame
from driftline.validation.core import (
    INFERRED,
    MAX_REASONS,
    LoadOutcome,
    capped,
    decide,
    reject_unloaded,
    specs_fingerprint,
)
from driftline_contracts.values import Reason
from tests.unit.validation.helpers import spec

EXPECTATIONS = {
    "columns": [
        {"name": "age", "dtype": "integer", "min": 0, "max": 120, "max_null_rate": 0.05},
        {"name": "plan", "dtype": "string", "allowed": ["basic", "pro"]},
        {"name": "label", "dtype": "integer"},
    ],
    "target": "label",
    "task": "classification",
}


def _frame(rows: int = 100, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "plan": rng.choice(["basic", "pro"], rows),
            "spend": rng.normal(100 + shift, 10, rows),
            "label": rng.integers(0, 2, rows),
        }
    )


def test_passing_data_is_accepted_for_every_valid_spec() -> None:
    specs = [spec("churn", expectations=EXPECTATIONS), spec("upsell")]
    verdict = decide(_frame(), specs, None, None)
    assert verdict.accepted
    assert verdict.models == ("churn", "upsell")
    declared = {c.result.column for c in verdict.checks if c.model == "churn"}
    inferred = {c.result.column for c in verdict.checks if c.model == INFERRED}
    assert {"age", "plan", "label"} <= declared
    assert inferred == {"spend"}  # declared columns are not also held to inferred rules
    assert verdict.inferred is not None  # inference stays on for the undeclared columns


def test_corrupted_data_lists_each_failed_check_with_its_model() -> None:
    frame = _frame().drop(columns=["plan"])
    frame.loc[:9, "age"] = 500
    frame["age"] = frame["age"].astype("float64")
    frame.loc[50:79, "age"] = np.nan  # 30% nulls
    verdict = decide(frame, [spec("churn", expectations=EXPECTATIONS)], None, None)
    assert not verdict.accepted
    codes = {(r.code, r.field) for r in verdict.reasons}
    assert {("missing_column", "plan"), ("out_of_range", "age"), ("null_rate", "age")} <= codes
    assert all(r.message.startswith("expected ") for r in verdict.reasons)
    assert all(r.message.endswith("(model churn)") for r in verdict.reasons)
    assert verdict.models == ("churn",)


def test_checks_are_the_union_over_specs_of_the_dataset() -> None:
    strict = {"columns": [{"name": "age", "max": 50}]}
    specs = [spec("churn", expectations=EXPECTATIONS), spec("strict", expectations=strict)]
    verdict = decide(_frame(), specs, None, None)
    assert not verdict.accepted
    assert [(r.code, r.field) for r in verdict.reasons] == [("out_of_range", "age")]
    assert "(model strict)" in verdict.reasons[0].message


def test_invalid_expectations_warn_and_leave_the_model_out() -> None:
    specs = [spec("churn", expectations=EXPECTATIONS), spec("broken", error="columns: bad")]
    verdict = decide(_frame(), specs, None, None)
    assert verdict.accepted
    assert verdict.models == ("churn",)
    assert [w.code for w in verdict.warnings] == ["invalid_expectations"]
    assert "broken" in verdict.warnings[0].message


def test_without_declarations_the_first_version_sets_the_expectations() -> None:
    first = decide(_frame(), [spec("churn")], None, None)
    assert first.accepted
    assert first.inferred is not None
    assert first.inferred.target == "label"
    later = _frame(seed=1)
    later["plan"] = "enterprise"
    verdict = decide(later, [spec("churn")], first.inferred, None)
    assert not verdict.accepted
    assert verdict.inferred is None
    assert ("unexpected_category", "plan") in {(r.code, r.field) for r in verdict.reasons}
    assert all(f"(model {INFERRED})" in r.message for r in verdict.reasons)


def test_missing_target_of_a_spec_without_expectations_rejects() -> None:
    verdict = decide(_frame().drop(columns=["label"]), [spec("churn")], None, None)
    assert not verdict.accepted
    assert [(r.code, r.field) for r in verdict.reasons] == [("target_missing", "label")]


def test_distribution_shift_is_a_warning_not_a_rejection() -> None:
    previous = profile_frame(_frame(rows=2000), sha256="1" * 64)
    shifted = _frame(rows=2000, seed=1, shift=30.0)
    verdict = decide(shifted, [spec("churn", expectations=EXPECTATIONS)], None, previous)
    assert verdict.accepted
    shifts = [w for w in verdict.warnings if w.code == "distribution_shift"]
    assert [w.field for w in shifts] == ["spend"]
    assert any(d.feature == "spend" and d.drifted for d in verdict.drift)


def test_same_distribution_gives_no_shift_warning() -> None:
    previous = profile_frame(_frame(rows=2000), sha256="1" * 64)
    verdict = decide(_frame(rows=2000, seed=1), [spec("churn")], None, previous)
    assert verdict.accepted
    assert verdict.warnings == ()


def test_nan_and_infinity_are_counted_not_fatal() -> None:
    frame = pd.DataFrame({"x": [1.0, np.inf, -np.inf, np.nan] * 25})
    expectations = {"columns": [{"name": "x", "max_null_rate": 0.1}]}
    verdict = decide(frame, [spec("m", expectations=expectations, target="x")], None, None)
    assert [(r.code, r.field) for r in verdict.reasons] == [("null_rate", "x")]


def test_a_million_categories_stay_bounded() -> None:
    frame = pd.DataFrame({"id": [f"user-{i}" for i in range(1_000_000)], "label": [0, 1] * 500_000})
    verdict = decide(frame, [spec("churn")], None, None)
    assert verdict.accepted
    profile = profile_frame(frame, sha256="2" * 64, top_k=50)
    assert len(profile.model_dump_json()) < 100_000
    assert verdict.inferred is not None
    ids = next(c for c in verdict.inferred.columns if c.name == "id")
    assert ids.allowed is None  # too many values to enumerate


def test_unloaded_object_is_rejected_with_its_reason() -> None:
    failure = Reason(code="not_utf8", message="invalid UTF-8 at byte 3")
    verdict = reject_unloaded(LoadOutcome(None, failure), [spec("b"), spec("a")])
    assert not verdict.accepted
    assert verdict.reasons == (failure,)
    assert verdict.models == ("a", "b")


def test_reasons_are_capped_at_the_event_limit() -> None:
    many = [Reason(code="dtype", message="m", field=f"c{i}") for i in range(1500)]
    kept = capped(many)
    assert len(kept) == MAX_REASONS
    assert kept[-1].code == "truncated"
    assert "501 more" in kept[-1].message


def test_fingerprint_changes_with_specs() -> None:
    a = specs_fingerprint([spec("churn")], None)
    assert a == specs_fingerprint([spec("churn")], None)
    assert a != specs_fingerprint([spec("churn", spec_hash="b" * 64)], None)
    assert a != specs_fingerprint([], None)


def _slice(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "price": rng.normal(100, 15, rows).round(2),
            "city": rng.choice(["Lyon", "Paris", "Nice"], rows),
            "label": rng.integers(0, 2, rows),
        }
    )


def test_a_handful_of_rows_outside_the_learnt_range_only_warns() -> None:
    first = decide(_slice(20_000, 0), [spec("churn")], None, None)
    second = _slice(20_000, 1)
    second.loc[:2, "price"] = -5.0  # 3 rows of 20,000: the case
    verdict = decide(second, [spec("churn")], first.inferred, None)
    assert verdict.accepted
    warned = [w for w in verdict.warnings if w.code == "out_of_range"]
    assert [w.field for w in warned] == ["price"]
    assert "5 outside" in warned[0].message  # ours and two of the normal tail, at 159
    assert "tolerance 1.000%" in warned[0].message


def test_a_meaningful_share_outside_the_range_rejects() -> None:
    first = decide(_slice(20_000, 0), [spec("churn")], None, None)
    second = _slice(20_000, 1)
    second.loc[:999, "price"] = -5.0  # 5% of the rows
    verdict = decide(second, [spec("churn")], first.inferred, None)
    assert not verdict.accepted
    assert [(r.code, r.field) for r in verdict.reasons] == [("out_of_range", "price")]


def test_a_declared_column_overrides_inference_for_that_column_only() -> None:
    first = decide(_slice(2000, 0), [spec("churn")], None, None)
    declared = {"columns": [{"name": "price", "min": 0, "max": 100_000}]}
    later = _slice(2000, 1).assign(price=lambda d: d.price * 100, label=lambda d: d.label + 0.5)
    verdict = decide(later, [spec("churn", expectations=declared)], first.inferred, None)
    # price x100 meets the declared range; the label's type change still fails inference
    assert not verdict.accepted
    assert [(r.code, r.field) for r in verdict.reasons] == [("dtype", "label")]


def test_inferred_expectations_grow_with_accepted_versions() -> None:
    first = decide(_slice(2000, 0), [spec("churn")], None, None)
    second = _slice(2000, 1)
    second.loc[:4, "city"] = "Brest"  # new, but only 5 rows: accepted with a warning
    accepted = decide(second, [spec("churn")], first.inferred, None)
    assert accepted.accepted
    assert [w.code for w in accepted.warnings] == ["unexpected_category"]
    assert accepted.inferred is not None
    city = next(c for c in accepted.inferred.columns if c.name == "city")
    assert city.allowed == ["Brest", "Lyon", "Nice", "Paris"]
    third = _slice(2000, 2)
    third.loc[:999, "city"] = "Brest"  # half the rows: fine now that Brest was accepted
    assert decide(third, [spec("churn")], accepted.inferred, None).accepted
    assert not decide(third, [spec("churn")], first.inferred, None).accepted


def test_the_fingerprint_changes_when_the_learnt_expectations_grow() -> None:
    first = decide(_slice(200, 0), [spec("churn")], None, None).inferred
    second = decide(_slice(200, 1), [spec("churn")], first, None).inferred
    assert first is not None
    assert second is not None
    assert specs_fingerprint([spec("churn")], first) != specs_fingerprint([spec("churn")], second)


def test_the_first_version_is_not_warned_about_its_own_tails() -> None:
    rng = np.random.default_rng(3)
    heavy = pd.DataFrame({"x": rng.lognormal(0, 1.5, 5000), "label": rng.integers(0, 2, 5000)})
    first = decide(heavy, [spec("churn")], None, None)
    assert first.accepted
    assert first.warnings == ()
    assert decide(heavy, [spec("churn")], first.inferred, None).warnings != ()  # later: warned
