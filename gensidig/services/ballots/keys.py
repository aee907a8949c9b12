"""The master key and the round keys it wraps (DESIGN.md 2.1).

Every round has its own X25519 key pair (libsodium, through PyNaCl). Ballots are sealed to its
public half, which is stored in the clear. Its private half is stored only encrypted
("wrapped") with the master key, a 256-bit key that never enters the database: it comes from
GENSIDIG_BALLOT_KEY, or from a key file in the data folder (mode 0600). Every app server and
worker of an installation must share it; a server with another key fails loudly instead of
failing to count.

So whoever has the database, its write-ahead log or a backup, but not the master key, holds
only ciphertext until the round closes, and only totals after.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.secret
from django.conf import settings
from django.db import transaction

from gensidig.models import Round, RoundKey
from gensidig.models.choices import RoundStatus

KEY_BYTES = nacl.secret.SecretBox.KEY_SIZE  # 32


class BallotKeyError(Exception):
    """The master key is missing, malformed, or not the one a round's key was wrapped with."""


@dataclass(frozen=True)
class MasterKey:
    secret: bytes

    def __post_init__(self):
        if len(self.secret) != KEY_BYTES:
            raise BallotKeyError(f"A ballot master key has {KEY_BYTES} bytes, not {len(self.secret)}.")

    @property
    def key_id(self) -> str:
        """A short fingerprint that names the key without revealing it (a keyed BLAKE2b of nothing)."""
        digest = nacl.hash.blake2b(b"", key=self.secret, person=b"gensidig-key-id", digest_size=8)
        return digest.decode()

    def encoded(self) -> str:
        return base64.urlsafe_b64encode(self.secret).decode().rstrip("=")

    def __repr__(self):  # never print the secret by accident
        return f"MasterKey(id={self.key_id})"


def generate_master_key() -> MasterKey:
    return MasterKey(secrets.token_bytes(KEY_BYTES))


def parse_master_key(text: str, *, source: str) -> MasterKey:
    """A key written as URL-safe base64 (what `gensidig ballot-key generate` prints)."""
    cleaned = text.strip()
    try:
        raw = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        raise BallotKeyError(f"The ballot master key in {source} is not base64.") from None
    if len(raw) != KEY_BYTES:
        raise BallotKeyError(
            f"The ballot master key in {source} has {len(raw)} bytes; it must have {KEY_BYTES}. "
            "Make one with `gensidig ballot-key generate`."
        )
    return MasterKey(raw)


def write_key_file(path: Path, key: MasterKey) -> None:
    """Write a key file readable by its owner only; never overwrites an existing one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.encoded() + "\n")


def _configured_master_key() -> MasterKey:
    if settings.GENSIDIG_BALLOT_KEY:
        return parse_master_key(settings.GENSIDIG_BALLOT_KEY, source="GENSIDIG_BALLOT_KEY")
    path = Path(settings.GENSIDIG_BALLOT_KEY_FILE)
    if path.exists():
        return parse_master_key(path.read_text(), source=str(path))
    if not settings.GENSIDIG_BALLOT_KEY_CREATE:
        raise BallotKeyError(
            f"No ballot master key: set GENSIDIG_BALLOT_KEY or put a key file at {path} "
            "(`gensidig ballot-key generate --file PATH` makes one). Every app server and worker must use the "
            "same key, and it must be backed up apart from the database (docs/deployment.md)."
        )
    # First start of a self-contained install (SQLite: everything runs on this machine, from
    # this data folder), so `make demo` needs nothing.
    key = generate_master_key()
    try:
        write_key_file(path, key)
    except FileExistsError:  # another process made it a moment ago: use theirs
        return parse_master_key(path.read_text(), source=str(path))
    return key


@functools.cache
def _cached_master_key(_configuration: tuple) -> MasterKey:
    return _configured_master_key()


def master_key() -> MasterKey:
    """The installation's master key, read once per process (and per configuration, for tests)."""
    configuration = (
        settings.GENSIDIG_BALLOT_KEY,
        str(settings.GENSIDIG_BALLOT_KEY_FILE),
        settings.GENSIDIG_BALLOT_KEY_CREATE,
    )
    return _cached_master_key(configuration)


def forget_master_key() -> None:
    _cached_master_key.cache_clear()


# --- Round keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyMaterial:
    public_key: bytes
    wrapped_private_key: bytes
    master_key_id: str


def new_key_material(master: MasterKey) -> KeyMaterial:
    """A fresh X25519 key pair, its private half wrapped by the master key (what a RoundKey stores)."""
    private = nacl.public.PrivateKey.generate()
    return KeyMaterial(
        public_key=bytes(private.public_key),
        wrapped_private_key=nacl.secret.SecretBox(master.secret).encrypt(bytes(private)),
        master_key_id=master.key_id,
    )


def new_round_key(round_: Round, *, master: MasterKey | None = None) -> RoundKey:
    """A fresh key pair for a round (not saved)."""
    material = new_key_material(master or master_key())
    return RoundKey(
        round=round_,
        public_key=material.public_key,
        wrapped_private_key=material.wrapped_private_key,
        master_key_id=material.master_key_id,
    )


def unwrap(round_key: RoundKey, *, master: MasterKey | None = None) -> nacl.public.PrivateKey:
    """The round's private key; BallotKeyError, saying which key is needed, if it cannot be had."""
    master = master or master_key()
    if round_key.master_key_id != master.key_id:
        raise BallotKeyError(
            f"The key of round {round_key.round_id} was wrapped by master key {round_key.master_key_id}, "
            f"but this server has master key {master.key_id}. Configure the installation's master key "
            "(GENSIDIG_BALLOT_KEY or the key file) on every server."
        )
    try:
        raw = nacl.secret.SecretBox(master.secret).decrypt(bytes(round_key.wrapped_private_key))
    except nacl.exceptions.CryptoError:
        raise BallotKeyError(
            f"The key of round {round_key.round_id} does not open with master key {master.key_id}: it has been altered."
        ) from None
    return nacl.public.PrivateKey(raw)


def rewrap_all(*, old: MasterKey, new: MasterKey) -> int:
    """Wrap every round key again, from the old master key to the new one, in one transaction.

    Either every key moves or none does; returns how many moved. Keys already under the new
    master key are left as they are, so running it twice is harmless.
    """
    moved = 0
    with transaction.atomic():
        for round_key in RoundKey.objects.select_for_update().order_by("pk"):
            if round_key.master_key_id == new.key_id:
                continue
            private = unwrap(round_key, master=old)
            round_key.wrapped_private_key = nacl.secret.SecretBox(new.secret).encrypt(bytes(private))
            round_key.master_key_id = new.key_id
            round_key.save(update_fields=["wrapped_private_key", "master_key_id"])
            moved += 1
    return moved


def unopenable_rounds(*, master: MasterKey | None = None) -> list[tuple[Round, str]]:
    """Open rounds whose keys this server cannot unwrap, each with the reason."""
    master = master or master_key()
    problems = []
    open_rounds = Round.objects.filter(status=RoundStatus.OPEN).select_related("team", "ballot_key").order_by("pk")
    for round_ in open_rounds:
        try:
            round_key = round_.ballot_key
        except RoundKey.DoesNotExist:
            problems.append((round_, "it has no ballot key"))
            continue
        try:
            unwrap(round_key, master=master)
        except BallotKeyError as error:
            problems.append((round_, str(error)))
    return problems


def check_ready_to_serve() -> None:
    """Fail loudly, before serving, if ballots could be received but never counted.

    Raises BallotKeyError naming every open round whose key this server cannot unwrap.
    """
    master = master_key()
    problems = unopenable_rounds(master=master)
    if problems:
        lines = "\n".join(
            f"  - {round_.team.name} #{round_.number} ({round_.public_id}): {why}" for round_, why in problems
        )
        raise BallotKeyError(
            f"{len(problems)} open round(s) could not be counted with this server's ballot master key "
            f"({master.key_id}):\n{lines}\nStart it with the installation's master key (docs/deployment.md)."
        )
