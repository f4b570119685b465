"""Submissions over HTTP: upload a model trained elsewhere, then follow its scoring job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from driftline.runtime.service import ServiceRuntime
from driftline.training.submission_intake import (
    SubmissionIntake,
    SubmissionRefusedError,
    SubmissionStatus,
)
from driftline.training.tracking.http import actor_of

PREFIX = "/v1/submissions"
ROLE_HEADER = "x-driftline-role"
STATUS = {"not_found": 404, "no_data": 409, "empty": 422}
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same file was already submitted for this model, data and spec."},
    403: {"description": "The viewer role may not submit."},
    404: {"description": "No spec for the model, or no such tracked run."},
    409: {"description": "No accepted dataset version to score the model on yet."},
    413: {"description": "The file is larger than DRIFTLINE_TRAINING__MAX_ARTIFACT_BYTES."},
    422: {"description": "An empty file."},
}
RUN_ID = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
MODEL = r"^[a-z0-9][a-z0-9._-]{0,127}$"


def _refused(exc: SubmissionRefusedError) -> HTTPException:
    return HTTPException(STATUS[exc.code], exc.message)


def submissions_router(runtime: ServiceRuntime) -> APIRouter:
    """``POST /v1/submissions/{model}`` (the file as the raw body) and ``GET`` of one."""
    router = APIRouter(prefix=PREFIX, tags=["submissions"])
    intake = SubmissionIntake(runtime.units, runtime.store)

    @router.post("/{model}", status_code=202, responses=ANSWERS,
                 summary="Submit a model trained elsewhere (skops or a native LightGBM / "
                 "XGBoost archive, as the raw body) to be scored and registered.")  # fmt: skip
    async def submit(
        request: Request, response: Response,
        model: str = Path(pattern=MODEL, description="Model the file is a candidate for."),
        run_id: str | None = Query(None, pattern=RUN_ID, description="Tracked run it came from."),
    ) -> SubmissionStatus:  # fmt: skip
        if request.headers.get(ROLE_HEADER) == "viewer":  # a gateway's viewer: no writes
            raise HTTPException(403, "the viewer role may not submit models")
        data = await request.body()  # counted against the upload limit as it streams
        try:
            status = await intake.submit(model, data, actor_of(request), run_id)
        except SubmissionRefusedError as exc:
            raise _refused(exc) from exc
        response.status_code = 202 if status.created else 200
        return status

    @router.get("/{submission_id}", summary="Where a submission stands, and why it failed.",
                responses={404: {"description": "No such submission."}})  # fmt: skip
    async def status(submission_id: str) -> SubmissionStatus:
        try:
            return await intake.status(submission_id)
        except SubmissionRefusedError as exc:
            raise _refused(exc) from exc

    return router
