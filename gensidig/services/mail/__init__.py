"""E-mail: the messages, the outbox that sends each at most once, and reminders."""
