"""The conversation runtime: what a session's client secret unlocks (``ChatKitServer`` on our store)."""
