"""Subscriptions read their event type from the handler's annotation (stated once)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from driftline.runtime.consumer import Subscription, SubscriptionError
from driftline_contracts.events.data import DataArrived, DataValidated

if TYPE_CHECKING:  # never importable at run time: only the event annotation is evaluated
    from driftline.runtime.uow import EventUnit
    from driftline.training.deps import TrainingDeps


async def on_data_arrived(event: DataArrived, uow: EventUnit[TrainingDeps]) -> None:
    return None


async def on_anything(event: Any, uow: Any) -> None:
    return None


async def on_nothing(event, uow) -> None:  # type: ignore[no-untyped-def]  # the case under test
    return None


def test_the_event_type_and_topic_come_from_the_handler() -> None:
    sub = Subscription(on_data_arrived)
    assert sub.event_type is DataArrived
    assert sub.source_topic == DataArrived.topic
    assert sub.name == "on_data_arrived"
    assert sub.batch_size == 1


def test_the_explicit_forms_still_work() -> None:
    audit = Subscription(object, on_anything, topic="driftline.audit")
    assert audit.event_type is object
    assert audit.source_topic == "driftline.audit"
    batched = Subscription(DataArrived, on_anything, batch_size=50)
    assert batched.accepts(DataArrived.model_construct())
    assert not batched.accepts(DataValidated.model_construct())
    assert batched.batch_size == 50


@pytest.mark.parametrize("handler", [on_anything, on_nothing])
def test_a_handler_that_names_no_event_class_is_refused_with_the_fix(handler: Any) -> None:
    with pytest.raises(SubscriptionError, match="pass the event type"):
        Subscription(handler)


def test_a_bound_method_handler_reads_its_first_parameter_after_self() -> None:
    class Probe:
        async def on_data_arrived(self, event: DataArrived, uow: Any) -> None:
            return None

    assert Subscription(Probe().on_data_arrived).event_type is DataArrived


def test_a_subscription_without_a_topic_to_read_says_so() -> None:
    with pytest.raises(SubscriptionError, match="no topic"):
        _ = Subscription(object, on_anything).source_topic
