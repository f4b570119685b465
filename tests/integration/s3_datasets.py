"""Datasets put straight into the stack's bucket, as a pipeline would before ``DataArrived``
(for tests that stand in for ingest and validation)."""

from __future__ import annotations

import hashlib
import io

import pandas as pd
from minio import Minio
from sklearn.datasets import load_breast_cancer

from driftline.stack import StackInfo
from driftline_contracts.values import DatasetRef


def stack_minio(stack: StackInfo) -> Minio:
    """A minio client on the stack's S3."""
    return Minio(stack.s3_endpoint, access_key=stack.s3_access_key,
                 secret_key=stack.s3_secret_key, secure=False, region="us-east-1")  # fmt: skip


def cancer_frame() -> pd.DataFrame:
    """scikit-learn's breast-cancer data with ``_`` for the spaces in its column names."""
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    return frame


def put_csv(stack: StackInfo, name: str, data: bytes, rows: int | None = None) -> DatasetRef:
    """``data`` stored as version 1 of dataset ``name``, and its reference."""
    key = f"datasets/{name}/v1.csv"
    stack_minio(stack).put_object(stack.bucket, key, io.BytesIO(data), len(data), "text/csv")
    return DatasetRef(name=name, version=1, uri=f"s3://{stack.bucket}/{key}",
                      sha256=hashlib.sha256(data).hexdigest(), format="csv", rows=rows,
                      size_bytes=len(data))  # fmt: skip


def put_frame(stack: StackInfo, name: str, frame: pd.DataFrame) -> DatasetRef:
    """``frame`` as CSV, stored as version 1 of dataset ``name``."""
    return put_csv(stack, name, frame.to_csv(index=False).encode(), rows=len(frame))
