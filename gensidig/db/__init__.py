"""Database backends of our own (thin wrappers around Django's)."""
