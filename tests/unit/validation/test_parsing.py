"""Every hostile file becomes its typed reason code; ordinary files become frames."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.validation.adapters.limits import Unloadable
from driftline.validation.adapters.parsing import parse_file
from tests.unit.validation.helpers import limits


def _write(tmp_path: Path, data: bytes, name: str = "data") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _code(path: Path, fmt: str = "csv", **overrides: float) -> str:
    with pytest.raises(Unloadable) as caught:
        parse_file(path, fmt, limits(**overrides))
    return caught.value.code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"   \n\n", "empty_file"),
        (b"a,b,c\n", "header_only"),
        (b"a;b;c\n1\n2\n3\n", "bad_delimiter"),
        (b"a|b\n1\n2\n", "bad_delimiter"),
        ("name,city\nJosé,Zürich\n".encode("latin-1"), "not_utf8"),
        (b"a,b\n1,2\n\xe2\x82", "not_utf8"),
        (b'a,b\n1,"unterminated\n', "unreadable"),
        (b"a,b\n1,2,3,4\n", "unreadable"),
        (b"a,a\n1,2\n", "unreadable"),
    ],
)
def test_hostile_csv_becomes_its_reason(tmp_path: Path, data: bytes, code: str) -> None:
    assert _code(_write(tmp_path, data)) == code


def test_sniffed_delimiters_parse(tmp_path: Path) -> None:
    for delimiter in ";\t|":
        data = f"a{delimiter}b\n1{delimiter}x\n2{delimiter}y\n".encode()
        frame = parse_file(_write(tmp_path, data), "csv", limits())
        assert list(frame.columns) == ["a", "b"]
        assert frame["a"].tolist() == [1, 2]


def test_nan_and_infinity_are_data(tmp_path: Path) -> None:
    data = b"x,y\n1,inf\n2,\n3,-inf\n4,nan\n"
    frame = parse_file(_write(tmp_path, data), "csv", limits())
    assert len(frame) == 4
    assert math.isinf(frame["y"][0])
    assert math.isnan(frame["y"][1])


def test_utf8_bom_is_not_part_of_the_header(tmp_path: Path) -> None:
    frame = parse_file(_write(tmp_path, "\ufeffa,b\n1,2\n".encode()), "csv", limits())
    assert list(frame.columns) == ["a", "b"]


def test_too_many_rows_and_columns(tmp_path: Path) -> None:
    rows = _write(tmp_path, b"a\n" + b"1\n" * 101, "rows")
    assert _code(rows, max_rows=100) == "too_many_rows"
    wide = _write(tmp_path, (",".join(f"c{i}" for i in range(11)) + "\n").encode(), "wide")
    assert _code(wide, max_columns=10) == "too_many_columns"


def test_gzip_csv_reads_and_a_gzip_bomb_is_refused(tmp_path: Path) -> None:
    payload = b"a,b\n" + b"1,2\n" * 500_000  # 2 MB that compress to a few KB
    path = _write(tmp_path, gzip.compress(payload), "data.gz")
    assert len(parse_file(path, "csv", limits())) == 500_000
    assert _code(path, max_uncompressed_bytes=1_000_000) == "decompression_bomb"


def test_truncated_gzip_is_unreadable(tmp_path: Path) -> None:
    data = gzip.compress(b"a,b\n" + b"1,2\n" * 10_000)
    assert _code(_write(tmp_path, data[: len(data) // 2])) == "unreadable"


def test_parse_timeout(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a\n" + b"1\n" * 10)
    assert _code(path, timeout_s=-1.0) == "parse_timeout"


def _parquet(tmp_path: Path, frame: pd.DataFrame, name: str = "data.parquet") -> Path:
    path = tmp_path / name
    frame.to_parquet(path)
    return path


def test_parquet_reads_with_nan_and_infinity(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, np.nan, np.inf], "c": ["a", "b", None]})
    loaded = parse_file(_parquet(tmp_path, frame), "parquet", limits())
    assert loaded.shape == (3, 2)


def test_parquet_limits_come_from_the_footer(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"zeros": np.zeros(1_000_000)}))
    assert path.stat().st_size < 100_000  # compresses well
    assert _code(path, "parquet", max_uncompressed_bytes=1_000_000) == "decompression_bomb"
    assert _code(path, "parquet", max_rows=999_999) == "too_many_rows"
    wide = _parquet(tmp_path, pd.DataFrame({f"c{i}": [1] for i in range(5)}), "wide.parquet")
    assert _code(wide, "parquet", max_columns=4) == "too_many_columns"


def test_parquet_without_rows_or_garbage(tmp_path: Path) -> None:
    empty = _parquet(tmp_path, pd.DataFrame({"a": pd.Series([], dtype="int64")}))
    assert _code(empty, "parquet") == "header_only"
    garbage = _write(tmp_path, b"PAR1 this is not parquet PAR1", "bad.parquet")
    assert _code(garbage, "parquet") == "unreadable"
    csv_as_parquet = _write(tmp_path, b"a,b\n1,2\n", "csv.parquet")
    assert _code(csv_as_parquet, "parquet") == "unreadable"
