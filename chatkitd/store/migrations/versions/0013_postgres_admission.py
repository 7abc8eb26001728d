"""A chat request's admission on PostgreSQL in one round trip: the function chatkitd_admit

Revision ID: 0013_postgres_admission
Revises: 0012_uploads_and_server_keys

Admitting a request locks its session's row, counts the requests of the last
minute and logs this one if there is room. Those must be separate statements
(the count needs a snapshot taken once the lock is held, or two processes
could count the same minute and both log a request past the limit), and as
separate statements they cost five round trips with BEGIN and COMMIT. In a
PL/pgSQL function each statement still takes its own snapshot, and the call is
one statement, its own transaction: one round trip. chatkitd.store.sessions
calls it; SQLite keeps the same statements, run inline under its write lock.
"""

from alembic import op

revision = "0013_postgres_admission"
down_revision = "0012_uploads_and_server_keys"
branch_labels = None
depends_on = None

ADMIT = """
CREATE FUNCTION chatkitd_admit(
    p_session varchar, p_now double precision, p_window double precision, p_prune boolean,
    OUT active boolean, OUT admitted boolean, OUT oldest double precision
) LANGUAGE plpgsql AS $$
DECLARE
    v_limit integer;
BEGIN
    -- The request log needs to be visible to other processes at once, not durable: a crash
    -- may forget a few counted requests, which is harmless, and the commit waits for no flush.
    PERFORM set_config('synchronous_commit', 'off', true);
    -- Locked: every other admission of the session waits here until this one commits.
    SELECT rate_limit INTO v_limit FROM sessions
        WHERE id = p_session AND cancelled_at IS NULL AND expires_at > p_now
        FOR UPDATE;
    active := FOUND;
    admitted := false;
    IF NOT active THEN
        RETURN;
    END IF;
    -- A new snapshot: it sees the requests logged by whoever held the lock before.
    INSERT INTO session_requests (session_id, at)
        SELECT p_session, p_now
        WHERE (SELECT count(*) FROM session_requests
               WHERE session_id = p_session AND at > p_now - p_window) < v_limit;
    admitted := FOUND;
    IF NOT admitted THEN
        SELECT min(at) INTO oldest FROM session_requests
            WHERE session_id = p_session AND at > p_now - p_window;
    ELSIF p_prune THEN
        -- Requests out of the window no longer count: cleared now and then.
        DELETE FROM session_requests WHERE session_id = p_session AND at <= p_now - p_window;
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(ADMIT)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION chatkitd_admit(varchar, double precision, double precision, boolean)")
