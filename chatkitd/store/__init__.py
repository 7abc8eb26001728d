"""Persistence: one SQL database (SQLite or PostgreSQL) behind SQLAlchemy's async core.

A map for the next engineer.

The rule. Who may see which thread, item and attachment is stated once, in
``tenancy`` (``scope(context)``, ``visible_threads``, ``visible_attachments``);
every statement that reads or touches those rows is built on it, once per
shape, in ``visible`` (reads and the write-side checks) or inline in
``threads`` (attachment records). Lists follow one paging rule, ``paging``
(``keyset``, ``read_page``, ``parse_limit``).

Reads. Hot reads are statements built once and run on the driver directly
(``readers``: raw ``sqlite3`` inline on the loop, or a pool of ``asyncpg``
connections), through ``Database.fetch_all``. The conversation reads protocol
JSON (``threads.ThreadStore``); the REST API reads the shapes stored beside
each row (``rest_pages``, ``rest_shapes``, ``projection``, whose ``VERSION``
a mapping change must bump, with a migration). Repeated REST reads are
replayed from memory until ``Database.change_count()`` moves
(``chatkitd.http.response_cache``).

Writes. Every write is one transaction, ``async with db.write() as conn``,
or for the hot writes of a chat request, whose statements run on the driver
directly, ``async with db.write_direct() as direct`` (``direct``).
On SQLite one at a time (an in-process lock, then ``BEGIN IMMEDIATE`` across
processes; statements inline, commits on aiosqlite's thread: ``sqlite``),
grouped across concurrent requests (``group_commit``). On
PostgreSQL, SQLAlchemy's pool, or the driver's for the hot writes
(``postgres``), where every statement writing
``threads``, ``items`` or ``api_keys`` also bumps a change counter by trigger
(migration 0007). One conversation request commits, today:

- its admission (``sessions.admit_request``: the per-minute request log, with
  the session row locked on PostgreSQL);
- chatkit's saves through the ``Store`` methods of ``threads.ThreadStore``: a
  new thread (``save_thread``), the user's item (``add_thread_item``, which
  touches the thread through the tenancy check; on PostgreSQL a streamed
  ``threads.create`` commits the new thread with it, ``deferred``, and no
  frame leaves before what it acknowledges is committed), each item the workflow
  finishes (``add_thread_item`` / ``save_item``), and the thread again when its
  title or status changes;
- the run's trace (``chatkitd.tracing.store.save_trace``), when tracing is on.

Each is its own ``db.write_direct()`` block (``save_item``, rarer, a
``db.write()``); on PostgreSQL each is one
statement and one round trip (admission is the function ``chatkitd_admit``,
migration 0013; an item's insert and its thread's touch are one statement),
the trace excepted (one ``BEGIN`` ... ``COMMIT``). On
SQLite, concurrent blocks share one transaction and one commit
(``group_commit``: each in a savepoint, each caller back only once its commit
succeeded), so 200 concurrent chats commit a few dozen times, not a thousand.

Back ends are rows of ``db.BACKENDS``; each must be in the suite's
``TESTED_BACKENDS`` (``tests/support/servers.py``).
"""
