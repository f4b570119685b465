"""Verification against chained digests and their write-once copies: each attack is named."""

from __future__ import annotations

import dataclasses

import pytest

from driftline.audit.digests import (
    FIRST_PREVIOUS,
    digest_from_json,
    is_signed_by,
    next_digest,
)
from driftline.audit.settings import AuditSection, DigestKeyMissingError
from driftline.audit.verify import VerifyReport, assess
from tests.unit.audit.chains import KEY, by_number, chain, rechain, sign_at

HEADS = (8, 14, 20)


def _kinds(report: VerifyReport) -> set[tuple[str, int]]:
    return {(f.kind, f.seq) for f in report.findings}


def _intact() -> tuple[list, list]:
    rows = chain(20)
    return rows, sign_at(rows, HEADS)


def test_an_untouched_trail_verifies_against_postgres_and_s3() -> None:
    rows, digests = _intact()
    report = assess(KEY, rows, digests, {"s3": (by_number(digests), True)})
    assert report.ok, report.findings
    assert (report.entries, report.head_seq, report.digests, report.signed_seq) == (20, 20, 3, 20)


def test_each_digest_names_the_previous_one_and_its_range() -> None:
    _, (d1, d2, d3) = _intact()
    assert (d1.number, d1.first_seq, d1.last_seq) == (1, 1, 8)
    assert d1.previous_signature == FIRST_PREVIOUS
    assert (d2.first_seq, d2.last_seq, d2.previous_signature) == (9, 14, d1.signature)
    assert d3.previous_signature == d2.signature
    assert all(is_signed_by(KEY, d) for d in (d1, d2, d3))
    assert not is_signed_by(b"x" * 32, d1)
    assert digest_from_json(d2.to_json()) == d2
    assert next_digest(KEY, d3, 20, "h", "t") is None  # nothing new to sign


def test_a_changed_link_breaks_the_signature() -> None:
    _, (d1, _, _) = _intact()
    assert not is_signed_by(KEY, dataclasses.replace(d1, previous_signature="f" * 64))
    assert not is_signed_by(KEY, dataclasses.replace(d1, last_seq=7))


def test_rewritten_approver_resigned_with_a_leaked_key_differs_from_the_s3_copies() -> None:
    rows, genuine = _intact()
    forged_row = dataclasses.replace(rows[4], actor="user:mallory", payload=b'{"approver": "m"}')
    forged = rechain([*rows[:4], forged_row, *rows[5:]])
    resigned = sign_at(forged, HEADS)  # the attacker holds the key: a valid PostgreSQL chain
    report = assess(KEY, forged, resigned, {"s3": (by_number(genuine), True)})
    assert report.problem is None  # the rows alone look fine
    assert not report.ok
    assert ("resigned", 8) in _kinds(report)
    assert ("rewritten", 8) in _kinds(report)  # the S3 copy's head is not in the table
    assert "rows 1..8" in report.findings[0].detail


def test_deleting_the_newest_rows_and_their_digest_is_truncation() -> None:
    rows, digests = _intact()
    kept = rows[:12]  # newest 8 gone
    report = assess(KEY, kept, digests[:1], {"s3": (by_number(digests), True)})
    assert report.problem is None
    assert ("truncated", 13) in _kinds(report)
    assert {"digest-removed", "truncated"} <= {f.kind for f in report.findings}


def test_an_older_digest_copied_back_over_the_newest_is_caught() -> None:
    rows, (d1, d2, _) = _intact()
    copied_back = dataclasses.replace(d2, number=3)  # genuine older content, no key needed
    report = assess(KEY, rows[:14], [d1, d2, copied_back], {"s3": (by_number([d1, d2]), True)})
    kinds = {f.kind for f in report.findings}
    assert {"bad-signature", "broken-digest-chain"} <= kinds


def test_a_copy_placed_under_another_number_is_caught() -> None:
    rows, (d1, d2, _) = _intact()
    report = assess(KEY, rows[:14], [d1, d2], {"s3": ({1: d1, 2: d2, 3: d2}, True)})
    assert ("misplaced-copy", 14) in _kinds(report)


def test_a_row_deleted_in_the_middle_is_named() -> None:
    rows, digests = _intact()
    report = assess(KEY, rows[:9] + rows[10:], digests, {"s3": (by_number(digests), True)})
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("deleted", 11)


def test_a_row_deleted_and_the_chain_renumbered_and_resigned_is_caught() -> None:
    rows, genuine = _intact()
    shortened = rechain(rows[:9] + rows[10:])
    resigned = sign_at(shortened, (8, 13, 19))
    report = assess(KEY, shortened, resigned, {"s3": (by_number(genuine), True)})
    assert report.problem is None
    assert ("resigned", 13) in _kinds(report)
    assert ("truncated", 20) in _kinds(report)  # the genuine last digest covers seq 20


def test_a_rewrite_without_the_key_is_a_bad_signature() -> None:
    rows, _ = _intact()
    forged = rechain([*rows[:4], dataclasses.replace(rows[4], actor="user:mallory"), *rows[5:]])
    wrong_key = sign_at(forged, HEADS, key=b"guessed-key-0000")
    report = assess(KEY, forged, wrong_key, {})
    assert ("bad-signature", 8) in _kinds(report)


def test_a_digest_without_its_s3_copy_is_reported() -> None:
    rows, digests = _intact()
    report = assess(KEY, rows, digests, {"s3": (by_number(digests[:2]), True)})
    assert _kinds(report) == {("copy-missing", 20)}


def test_the_stream_may_lag_but_must_agree() -> None:
    rows, digests = _intact()
    copies = {"s3": (by_number(digests), True), "stream": (by_number(digests[:1]), False)}
    assert assess(KEY, rows, digests, copies).ok
    other = dataclasses.replace(digests[0], signed_at="later")
    copies["stream"] = ({1: other}, False)
    assert ("resigned", 8) in _kinds(assess(KEY, rows, digests, copies))


def test_rows_after_the_last_digest_are_unsigned_not_wrong() -> None:
    rows, digests = _intact()
    more = chain(23)
    report = assess(KEY, more, digests, {"s3": (by_number(digests), True)})
    assert report.ok
    assert (report.head_seq, report.signed_seq) == (23, 20)
    assert len(rows) == 20


@pytest.mark.parametrize("key", [None, "short"])
def test_the_sink_refuses_to_run_without_a_real_key(key: str | None) -> None:
    section = AuditSection(digest_key=key)
    with pytest.raises(DigestKeyMissingError, match="DRIFTLINE_AUDIT__DIGEST_KEY"):
        section.key_bytes()


def test_a_configured_key_is_used_as_given() -> None:
    assert AuditSection(digest_key="s" * 32).key_bytes() == b"s" * 32
