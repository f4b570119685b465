"""Hold the chain's rows and its digests to the digests' write-once copies (pure functions).

The digests in PostgreSQL can be changed by whoever can change the rows; their copies in S3
(written once per digest) and on the audit stream (append-only) cannot by that role. So every
digest, wherever it is kept, must carry a valid signature, link to the one before it, and
still find its signed head hash at its ``last_seq`` in the table; and each copy must equal the
one in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from driftline.audit.digests import FIRST_PREVIOUS, Digest, is_signed_by

FindingKind = Literal[
    "bad-signature",  # a digest does not verify under the key
    "broken-digest-chain",  # a digest does not name the one before it, or one is missing
    "misplaced-copy",  # a copy stored under another digest's number
    "truncated",  # a digest covers rows past the end of the table
    "rows-missing",  # the row a digest signed is gone
    "rewritten",  # the row a digest signed has another hash now
    "resigned",  # PostgreSQL's digest differs from its write-once copy
    "digest-removed",  # a copy names a digest PostgreSQL no longer holds
    "copy-missing",  # a digest has no write-once copy (yet)
]


@dataclass(frozen=True)
class Finding:
    """One reason the audit trail is not intact, naming the chain position at fault."""

    kind: FindingKind
    seq: int
    digest: int
    detail: str


def check_digest_chain(key: bytes, digests: Sequence[Digest], where: str) -> list[Finding]:
    """Signatures and links of ``digests`` (ordered by number) as kept in ``where``."""
    found: list[Finding] = []
    previous: Digest | None = None
    for digest in digests:
        if not is_signed_by(key, digest):
            found.append(_at(digest, "bad-signature", f"digest in {where} has a bad signature"))
        expected = (previous.number + 1) if previous else 1
        link = previous.signature if previous else FIRST_PREVIOUS
        first = (previous.last_seq + 1) if previous else 1
        if (digest.number, digest.previous_signature, digest.first_seq) != (expected, link, first):
            found.append(
                _at(
                    digest,
                    "broken-digest-chain",
                    f"digest in {where} does not follow digest {expected - 1} "
                    f"(expected number {expected} from seq {first}, naming its signature)",
                )
            )
        previous = digest
    return found


def check_against_rows(
    digest: Digest, hashes: Mapping[int, str], head_seq: int, where: str
) -> Finding | None:
    """Whether the table (ending at ``head_seq``) still holds the hash ``digest`` signed."""
    if digest.last_seq > head_seq:
        return Finding(
            "truncated",
            head_seq + 1,
            digest.number,
            f"digest {digest.number} in {where} covers rows up to seq {digest.last_seq}, "
            f"but the table ends at seq {head_seq}: rows after it were removed",
        )
    held = hashes.get(digest.last_seq)
    if held is None:
        return _at(digest, "rows-missing", f"the row digest {digest.number} signed is gone")
    if held != digest.head_hash:
        return _at(
            digest,
            "rewritten",
            f"the row at seq {digest.last_seq} no longer has the hash digest {digest.number} "
            f"({where}) signed: rows {digest.first_seq}..{digest.last_seq} were rewritten",
        )
    return None


def compare_copies(
    db: Mapping[int, Digest], copies: Mapping[int, Digest], where: str, complete: bool
) -> list[Finding]:
    """Each write-once copy must equal PostgreSQL's digest of that number.

    ``complete``: every digest should have a copy here (S3); the stream is read as far as
    it goes, so a digest missing there is not a finding.
    """
    found: list[Finding] = []
    for number, copy in sorted(copies.items()):
        mine = db.get(number)
        if copy.number != number:
            found.append(_at(copy, "misplaced-copy", f"{where} copy {number} holds another digest"))
        elif mine is None:
            found.append(
                _at(copy, "digest-removed", f"digest {number} is in {where}, not in PostgreSQL")
            )
        elif mine != copy:
            found.append(
                _at(
                    mine,
                    "resigned",
                    f"digest {number} in PostgreSQL differs from its write-once {where} copy: "
                    f"rows {copy.first_seq}..{copy.last_seq} were signed again",
                )
            )
    if complete:
        found.extend(
            _at(d, "copy-missing", f"digest {n} has no {where} copy")
            for n, d in sorted(db.items())
            if n not in copies
        )
    return found


def _at(digest: Digest, kind: FindingKind, detail: str) -> Finding:
    return Finding(kind, digest.last_seq, digest.number, detail)
