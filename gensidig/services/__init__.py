"""Business logic as plain functions with keyword-only arguments. Views and commands call these."""
