"""Sealed ballots and the round keys they are sealed to (DESIGN.md 2.1).

While a round is open, each submission is one Ballot: the person's whole set of answers,
padded to one fixed size and encrypted to the round's public key. The private key is stored
only wrapped by a master key that never enters the database, so nothing in the database, its
write-ahead log or its backups can read a ballot. At close the ballots are opened together,
added up, and deleted.
"""

import uuid

from django.db import models

from .survey import Round


class RoundKey(models.Model):
    """A round's key pair: the public half in the clear, the private half wrapped by the master key.

    Deleted when the round closes: its ballots are counted and gone, and no copy of a ballot
    elsewhere (a backup, an old WAL segment) can be opened with a key that no longer exists.
    """

    round = models.OneToOneField(Round, on_delete=models.CASCADE, related_name="ballot_key")
    public_key = models.BinaryField(max_length=32)
    wrapped_private_key = models.BinaryField()
    # Which master key wrapped it (a short fingerprint, not the key): a server configured with
    # another key can say so plainly instead of failing to decrypt.
    master_key_id = models.CharField(max_length=16)

    def __str__(self):
        return f"key of round {self.round_id}"


class Ballot(models.Model):
    """One person's sealed answers: no column but a random id, the round and the ciphertext."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Not checked by the database: on PostgreSQL the check of each new ballot locks its round's
    # row (FOR KEY SHARE) at commit, which writes to that row and makes sixteen leaders answering
    # one round queue on it. The round is the one the claim in the same statement just checked
    # (services.survey.answering), and deleting a round goes through Django, which deletes its
    # ballots first (tests/services/test_close_keys.py).
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="ballots", db_constraint=False)
    sealed = models.BinaryField()
