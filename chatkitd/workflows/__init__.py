"""Workflows: what runs when a session's user sends a message."""
