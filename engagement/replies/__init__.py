"""Replies to the platforms through an outbox, and compensations recorded on tasks."""
