"""Database helpers of our own: a thin SQLite backend, and bulk writes for the close."""
