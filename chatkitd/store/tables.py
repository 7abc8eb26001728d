"""The schema, as SQLAlchemy Core tables. Alembic migrations are generated from it.

Every ordered table has an integer ``seq`` that only grows, so order is total:
two rows created in the same second still page correctly.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    func,
    select,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY.
Seq = BigInteger().with_variant(Integer(), "sqlite")

projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False),
    Column("name", String(200)),
    Column("digest", String(64), nullable=False, unique=True),
    Column("hint", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

sessions = Table(
    "sessions",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("project_id", String(64), nullable=False),
    Column("user", String(512), nullable=False),
    Column("secret_digest", String(64), nullable=False, unique=True),
    Column("workflow_id", String(200), nullable=False),
    Column("workflow_version", String(200)),
    Column("resolved_version", String(200)),
    Column("state_variables", Text),
    Column("tracing_enabled", Boolean, nullable=False),
    Column("titling_enabled", Boolean, nullable=False),
    Column("upload_enabled", Boolean, nullable=False),
    Column("max_files", Integer, nullable=False),
    Column("max_file_size", Integer, nullable=False),
    Column("history_enabled", Boolean, nullable=False),
    Column("recent_threads", Integer),
    Column("rate_limit", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("cancelled_at", Float),
    Index(None, "project_id", "seq"),
)

# One row per admitted request, kept for a minute: the sliding window that
# enforces a session's per-minute rate limit across server processes.
session_requests = Table(
    "session_requests",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("session_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index(None, "session_id", "at"),
)

threads = Table(
    "threads",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("project_id", String(64), nullable=False),
    Column("user", String(512), nullable=False),
    Column("session_id", String(64)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("title", Text),
    Column("status", String(16), nullable=False),
    Column("data", Text, nullable=False),
    # The REST shape, serialized when the row is written: lists splice it as is.
    Column("rest", Text),
    Index(None, "project_id", "seq"),
    Index(None, "project_id", "user", "seq"),
)

items = Table(
    "items",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("thread_id", String(64), ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("data", Text, nullable=False),
    # The REST shape, or NULL for items the REST API does not list.
    Column("rest", Text),
    Index(None, "thread_id", "seq"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("project_id", String(64), nullable=False),
    Column("user", String(512), nullable=False),
    Column("session_id", String(64)),
    Column("thread_id", String(64)),
    Column("mime_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("uploaded", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("data", Text, nullable=False),
    # Where the upload that won keeps its bytes (NULL: under the attachment's id).
    Column("blob_id", String(160)),
    # An upload under way since then (a lease that lapses if its server died).
    Column("upload_started_at", Float),
    Index(None, "thread_id"),
    Index(None, "session_id"),
)

# Secrets every replica sharing the database agrees on (the link-signing key).
server_keys = Table(
    "server_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

feedback = Table(
    "feedback",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=False),
    Column("thread_id", String(64), ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", String(64), nullable=False),
    Column("user", String(512), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Index(None, "thread_id", "item_id"),
)

# One row per deployed version of a workflow. Versions are immutable: a
# redeploy adds a row, so sessions that resolved an older one keep running it.
workflow_versions = Table(
    "workflow_versions",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=False),
    Column("workflow_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(200)),
    Column("definition", Text, nullable=False),
    Column("source_path", Text),
    Column("digest", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Index(None, "project_id", "workflow_id", "version", unique=True),
)

# One row per agent run with tracing enabled; its spans below.
traces = Table(
    "traces",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("project_id", String(64), nullable=False),
    Column("thread_id", String(64)),
    Column("session_id", String(64)),
    Column("workflow_id", String(200)),
    Column("workflow_version", String(200)),
    Column("name", String(200)),
    # JSON list of the thread item ids the run answered and produced: the
    # join key for feedback given on those items.
    Column("item_ids", Text, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("error", Text),
    Index(None, "project_id", "thread_id", "seq"),
)

spans = Table(
    "spans",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False),
    Column("trace_id", String(64), ForeignKey("traces.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", String(64)),
    Column("kind", String(32), nullable=False),
    Column("name", String(200)),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("data", Text, nullable=False),
    Column("error", Text),
    Index(None, "trace_id", "seq"),
)

# Per workflow: which version is the latest when it is not the highest (a rollback),
# and whether it is archived (new sessions refused; existing ones keep running).
workflows = Table(
    "workflows",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("workflow_id", String(200), primary_key=True),
    Column("latest_version", Integer),
    Column("archived_at", Float),
    Column("updated_at", Float, nullable=False),
)

# A graph workflow's per-thread state (what set_state assigned). A graph run waiting
# for a person is an approvals pause (approval_pauses), like any other.
graph_threads = Table(
    "graph_threads",
    metadata,
    Column("thread_id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False),
    Column("state", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Which version of each read model kept beside the rows the rows hold: the
# REST shapes (``chatkitd.store.projection.VERSION``).
projections = Table(
    "projections",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
)

# A run waiting for people to answer (chatkitd.approvals): the state to resume it
# from, and how many of its approvals are still unanswered. Any process may resume it.
approval_pauses = Table(
    "approval_pauses",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("project_id", String(64), nullable=False),
    Column("thread_id", String(64), ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("user", String(512), nullable=False),
    Column("workflow_id", String(200), nullable=False),
    Column("workflow_version", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", Text, nullable=False),
    Column("remaining", Integer, nullable=False),
    # pending, resumed (every approval answered), cancelled (the thread moved on)
    Column("status", String(16), nullable=False),
    Column("trace_id", String(64)),
    Column("created_at", Float, nullable=False),
    Index(None, "thread_id", "status"),
)

# One question put to a person: its widget item, what it would run, and the answer.
approvals = Table(
    "approvals",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("pause_id", String(64), ForeignKey("approval_pauses.id", ondelete="CASCADE"), nullable=False),
    Column("thread_id", String(64), nullable=False),
    Column("item_id", String(64), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request", Text, nullable=False),
    # pending, approved, rejected, cancelled
    Column("status", String(16), nullable=False),
    Column("answered_by", String(512)),
    Column("answered_at", Float),
    Column("reason", Text),
    Column("created_at", Float, nullable=False),
    Index(None, "pause_id"),
)

# Counts the commits that change what REST reads return, so the response cache
# knows when to drop what it replays, and chat admissions or session records do
# not empty it. Triggers on threads, items and api_keys add one to a row: on
# PostgreSQL one of 64, picked by server process, so concurrent writers rarely
# share one (migration 0007); on SQLite, with one writer at a time, the one row
# 0 (migration 0010).
change_counters = Table(
    "change_counters",
    metadata,
    Column("shard", Integer, primary_key=True, autoincrement=False),
    Column("changes", BigInteger, nullable=False),
)
# The count itself: it grows with every such commit a read sees, and never shrinks.
CHANGES = select(cast(func.coalesce(func.sum(change_counters.c.changes), 0), BigInteger))

# Per project: threads idle longer than this are deleted with their files (chatkitd.store.retention).
retention_policies = Table(
    "retention_policies",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("idle_days", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)
