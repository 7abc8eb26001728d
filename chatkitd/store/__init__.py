"""Persistence: one SQL database (SQLite or PostgreSQL) behind SQLAlchemy's async core."""
