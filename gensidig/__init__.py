"""Gensidig: a two-way, anonymous survey and dialogue tool for a chief and their leaders."""
