"""The local stack's event-signing keys: one Ed25519 pair per service in ``<home>/event-keys``.

Each private key is ``<service>.key`` (mode 600, made once per home); ``public-keys`` lists
every service's public key and is rewritten from the private keys at every ``stack up``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from driftline.runtime.event_signing import (
    encode_private_key,
    encode_public_key,
    load_private_key,
)
from driftline.runtime.services import SERVICE_NAMES

KEYS_DIR = "event-keys"
PUBLIC_KEYS_FILE = "public-keys"
KEY_FILE_VAR = "DRIFTLINE_SIGNING__KEY_FILE"
PUBLIC_KEYS_VAR = "DRIFTLINE_SIGNING__PUBLIC_KEYS_FILE"


def keys_dir(home: Path) -> Path:
    """``<home>/event-keys``."""
    return Path(home) / KEYS_DIR


def private_key_path(home: Path, service: str) -> Path:
    """Where ``service``'s private key lives (``{service}`` is kept as a template)."""
    return keys_dir(home) / f"{service}.key"


def public_keys_path(home: Path) -> Path:
    """The public keys every service checks signatures against."""
    return keys_dir(home) / PUBLIC_KEYS_FILE


def _write(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)  # a leftover temp file keeps its old mode through O_TRUNC
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def _ensure_private_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        path.chmod(0o600)
        return load_private_key(path.read_text())
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another `up` of this home made it a moment ago
        return load_private_key(path.read_text())
    with os.fdopen(fd, "w") as out:
        out.write(encode_private_key(key) + "\n")
    return key


def ensure_event_keys(home: Path) -> Path:
    """Make the missing key pairs and rewrite ``public-keys``; returns the keys folder."""
    folder = keys_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    lines = ["# Public keys of this stack's services, written by driftline stack up.\n"]
    for service in SERVICE_NAMES:
        key = _ensure_private_key(private_key_path(home, service))
        lines.append(f"{service} {encode_public_key(key.public_key())}\n")
    _write(public_keys_path(home), "".join(lines), 0o644)
    return folder


def signing_env(home: Path, service: str | None = None) -> dict[str, str]:
    """Settings pointing services at the stack's keys: for one ``service`` its own key file;
    without one, the ``{service}`` template each in-process service resolves to its own."""
    if not public_keys_path(home).exists():
        return {}
    key_file = private_key_path(home, service or "{service}")
    return {KEY_FILE_VAR: str(key_file), PUBLIC_KEYS_VAR: str(public_keys_path(home))}
