"""Thin views by area. Every query for a signed-in user goes through a get_X_for_user() helper in scoping.py."""
