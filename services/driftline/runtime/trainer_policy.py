"""Who chooses the code that trains: the operator's estimator allow-list and trainer plug-ins.

A model spec names an estimator or a trainer plug-in; it never chooses what gets imported.
``trainer.estimator`` must be on the allow-list (checked as a string before anything is
imported), ``trainer.function`` must be the name of an installed entry point in the
``driftline.trainers`` group, and ``trainer.params`` must be JSON values for parameters the
estimator's constructor declares. The registry checks a spec before storing it; training
checks it again before it fits.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, cast

from driftline.runtime.settings import TrainerSettings
from driftline_contracts.modelspec import TrainerSpec

TRAINER_PLUGINS = "driftline.trainers"
"""Entry-point group of the installed trainer functions a spec may name."""

OBJECT_PARAMS = frozenset(
    {"estimator", "estimators", "base_estimator", "regressor", "classifier", "transformer",
     "func", "inverse_func", "memory"}
)  # fmt: skip
"""Parameters that take a Python object, a callable or a cache folder: never from a spec."""

BOOSTERS = {
    "lightgbm": ("LGBMClassifier", "LGBMRegressor"),
    "xgboost": ("XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor"),
}
"""scikit-learn API estimators of gradient-boosting libraries, allowed when installed."""


class TrainerNotAllowedError(Exception):
    """A spec names code or parameters the policy does not allow; ``field`` says which."""

    code = "trainer_not_allowed"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
        self.message = f"{field}: {message}"


class TrainerEntryPoint(Protocol):
    """What the policy needs of an entry point: its name, and loading its object."""

    name: str

    def load(self) -> Any:
        """The object the entry point names (imports its module)."""


def installed_trainers() -> list[TrainerEntryPoint]:
    """The entry points of the ``driftline.trainers`` group in this environment."""
    return list(entry_points(group=TRAINER_PLUGINS))


def _public_path(cls: type) -> str | None:
    """``sklearn.linear_model.LogisticRegression`` for a class its public package exports."""
    parts = cls.__module__.split(".")
    public = ".".join(parts[: next((i for i, p in enumerate(parts) if p.startswith("_")), None)])
    module = importlib.import_module(public)
    return f"{public}.{cls.__name__}" if getattr(module, cls.__name__, None) is cls else None


def _builds_from_json(cls: type) -> bool:
    """Whether JSON params can build ``cls``: no required argument, no object-valued slot."""
    parameters = constructor_parameters(cls)
    required = [p for p in parameters.values() if p.default is inspect.Parameter.empty]
    return not required and not OBJECT_PARAMS.intersection(parameters)


@functools.cache
def sklearn_estimators() -> frozenset[str]:
    """scikit-learn's public classifiers and regressors that need no Python object to build.

    Meta-estimators (ensembles of other estimators, pipelines, target transformers) take
    objects or callables, which a JSON spec cannot give; they are left out.
    """
    from sklearn.base import BaseEstimator
    from sklearn.utils import all_estimators

    found = set()
    for _, cls in all_estimators(type_filter=["classifier", "regressor"]):
        path = _public_path(cls)
        if path and issubclass(cls, BaseEstimator) and _builds_from_json(cls):
            found.add(path)
    return frozenset(found)


def booster_estimators(
    installed: Callable[[str], object | None] = importlib.util.find_spec,
) -> frozenset[str]:
    """The LightGBM/XGBoost scikit-learn API classes of the libraries that are installed."""
    return frozenset(
        f"{package}.{name}"
        for package, names in BOOSTERS.items()
        if installed(package) is not None
        for name in names
    )


def default_estimators() -> frozenset[str]:
    """The allow-list when the operator sets none: scikit-learn's, plus installed boosters."""
    return sklearn_estimators() | booster_estimators()


def constructor_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """The named keyword parameters of ``cls(...)`` (no ``self``, ``*args`` or ``**kwargs``);
    a ``**kwargs`` passed up to the base class (XGBoost's classifiers) adds the base's own."""
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    parameters: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        items = list(inspect.signature(vars(klass)["__init__"]).parameters.items())[1:]
        parameters |= {n: p for n, p in items if p.kind not in variadic and n not in parameters}
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for _, p in items):
            break
    return parameters


def _nearest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_json(value: object) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


@dataclass(frozen=True)
class TrainerPolicy:
    """The estimators and trainer plug-ins a spec may name (picklable: it crosses into the
    training process)."""

    named: frozenset[str]
    """Estimators the operator named (the whole list, or additions to the defaults)."""
    plugins: Callable[[], Iterable[TrainerEntryPoint]] = field(default=installed_trainers)
    """Where the installed trainer entry points come from (a fake in tests)."""
    with_defaults: bool = False
    """Whether scikit-learn's and the installed boosters' estimators are allowed too."""

    @functools.cached_property
    def estimators(self) -> frozenset[str]:
        """The allow-list, listed on first use: the defaults import all of scikit-learn,
        seconds that a service's start-up (registry, training) does not need to wait for."""
        return default_estimators() | self.named if self.with_defaults else self.named

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the allow-list listed, so a training process never lists it again."""
        _ = self.estimators
        return self.__dict__

    def check(self, trainer: TrainerSpec) -> None:
        """Refuse a trainer the policy does not allow (imports only allowed estimators)."""
        if trainer.function is not None:
            self._plugin(trainer.function)
        else:
            self.estimator_class(trainer)
        for name, value in trainer.params.items():
            if not _is_json(value):
                raise TrainerNotAllowedError(f"trainer.params.{name}", "must be a JSON value")

    def estimator_class(self, trainer: TrainerSpec) -> type:
        """The allowed estimator class of ``trainer``, its params checked against it."""
        path = (trainer.estimator or "").replace(":", ".")
        if path not in self.estimators:
            raise TrainerNotAllowedError(
                "trainer.estimator",
                f"{trainer.estimator!r} is not an allowed estimator"
                f"{_nearest(path, self.estimators)}; the operator's allow-list names them "
                "(DRIFTLINE_TRAINERS__ESTIMATORS / __EXTRA_ESTIMATORS)",
            )
        module_name, _, name = path.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError) as exc:
            raise TrainerNotAllowedError(
                "trainer.estimator", f"cannot import {path!r}: {exc}"
            ) from exc
        if not isinstance(cls, type) or not hasattr(cls, "get_params"):
            raise TrainerNotAllowedError("trainer.estimator", f"{path!r} is not an estimator class")
        self._check_params(cls, trainer.params)
        return cls

    def function(self, trainer: TrainerSpec) -> Callable[..., Any]:
        """The installed trainer plug-in ``trainer.function`` names, loaded."""
        loaded = self._plugin(trainer.function or "").load()
        if not callable(loaded):
            raise TrainerNotAllowedError(
                "trainer.function", f"{trainer.function!r} is not callable"
            )
        return cast("Callable[..., Any]", loaded)

    def _plugin(self, name: str) -> TrainerEntryPoint:
        installed = {ep.name: ep for ep in self.plugins()}
        if name in installed:
            return installed[name]
        why = " (an import path is not accepted)" if ":" in name or "." in name else ""
        raise TrainerNotAllowedError(
            "trainer.function",
            f"{name!r} is not an installed trainer plug-in{why}{_nearest(name, installed)}; "
            f"installed ({TRAINER_PLUGINS} entry points): {', '.join(sorted(installed)) or '-'}",
        )

    @staticmethod
    def _check_params(cls: type, params: dict[str, Any]) -> None:
        accepted = constructor_parameters(cls)
        for name in params:
            where = f"trainer.params.{name}"
            if name in OBJECT_PARAMS:
                raise TrainerNotAllowedError(
                    where, "takes a Python object, which a spec cannot give"
                )
            if name not in accepted:
                message = f"{cls.__name__} has no parameter {name!r}{_nearest(name, accepted)}"
                raise TrainerNotAllowedError(where, message)


def trainer_policy(
    settings: TrainerSettings,
    plugins: Callable[[], Iterable[TrainerEntryPoint]] = installed_trainers,
) -> TrainerPolicy:
    """The policy from the operator's settings: ``estimators`` replaces the default list,
    ``extra_estimators`` adds to it."""
    base = settings.estimators or ()
    named = {path.replace(":", ".") for path in (*base, *settings.extra_estimators)}
    return TrainerPolicy(frozenset(named), plugins, with_defaults=settings.estimators is None)
