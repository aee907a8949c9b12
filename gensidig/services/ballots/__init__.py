"""Sealed ballots: the round keys, sealing one person's answers, and counting them at close."""
