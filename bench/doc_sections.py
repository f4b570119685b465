"""Suite sections of ``docs/benchmarks.md`` between markers, replaced in place.

A suite's section is the text between a ``<!-- suite:NAME -->`` line and a
``<!-- /suite:NAME -->`` line. Writing a section replaces only that text: everything outside
the markers (the intro, hand-written notes, other suites) stays byte for byte. A suite with no
markers yet gets a new block before the next suite's section (in ``order``) or at the end.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

HEADER = "# Benchmarks\n\n{intro}\n\n"


class SectionError(ValueError):
    """The page's markers for a suite are missing a half, repeated or out of order."""


def start_marker(name: str) -> str:
    """The line that opens ``name``'s section."""
    return f"<!-- suite:{name} -->"


def end_marker(name: str) -> str:
    """The line that closes ``name``'s section."""
    return f"<!-- /suite:{name} -->"


def _line(marker: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(marker)}[ \t]*$", re.M)


def span(text: str, name: str) -> tuple[int, int] | None:
    """Where ``name``'s body lies in ``text`` (after the start line, before the end line)."""
    starts = list(_line(start_marker(name)).finditer(text))
    ends = list(_line(end_marker(name)).finditer(text))
    if not starts and not ends:
        return None
    if len(starts) != 1 or len(ends) != 1 or ends[0].start() < starts[0].end():
        raise SectionError(
            f"docs/benchmarks.md needs exactly one {start_marker(name)} line followed by one "
            f"{end_marker(name)} line (found {len(starts)} and {len(ends)}); fix the markers"
        )
    body_start = (
        starts[0].end() + 1 if text[starts[0].end() :].startswith("\n") else starts[0].end()
    )
    return body_start, ends[0].start()


def sections(text: str, names: Sequence[str]) -> dict[str, str]:
    """The bodies of the named suites' sections found in ``text``."""
    found = {}
    for name in names:
        where = span(text, name)
        if where is not None:
            found[name] = text[where[0] : where[1]]
    return found


def _block(name: str, body: str) -> str:
    return f"{start_marker(name)}\n{body}{end_marker(name)}\n"


def replace_section(text: str, name: str, lines: Sequence[str], order: Sequence[str]) -> str:
    """``text`` with ``name``'s section body set to ``lines``; nothing else changes."""
    body = "\n".join(lines).rstrip() + "\n"
    where = span(text, name)
    if where is not None:
        return text[: where[0]] + body + text[where[1] :]
    later = order[order.index(name) + 1 :] if name in order else ()
    for other in later:
        found = _line(start_marker(other)).search(text)
        if found is not None:
            return text[: found.start()] + _block(name, body) + "\n" + text[found.start() :]
    separator = (
        "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    )
    return text + separator + _block(name, body)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename (a crash leaves the old or the new page)."""
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(scratch, path.stat().st_mode & 0o777)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def store_section(
    path: Path, name: str, lines: Sequence[str], order: Sequence[str], intro: str
) -> None:
    """Write ``name``'s section into the page at ``path`` as it is now (created if absent)."""
    text = path.read_bytes().decode("utf-8") if path.exists() else HEADER.format(intro=intro)
    write_atomically(path, replace_section(text, name, lines, order))
