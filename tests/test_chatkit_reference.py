"""``openai-chatkit``'s own store and server tests, run against chatkitd's store.

``tests/chatkit_reference/run.py`` (``make compat``) runs the reference's
``TestStore`` (14 tests) and ``test_chatkit_server.py`` (48) unchanged, with
chatkitd's ``ThreadStore`` wherever they open a store. Every test passes but
``run.KNOWN_DIFFERENCES``, each a difference chatkitd keeps on purpose; a test
that starts failing, or one of those that starts passing, fails this check.
"""

from __future__ import annotations

import subprocess
from importlib import metadata

import pytest

from tests.chatkit_reference import run
from tests.support.servers import IN_CI


def test_the_reference_tests_pass_on_chatkitd_s_store():
    try:
        run.sdist(metadata.version("openai-chatkit"))
    except subprocess.CalledProcessError as error:
        if IN_CI:
            pytest.fail(f"openai-chatkit's sdist could not be downloaded: {error}")
        pytest.skip(f"openai-chatkit's sdist (its tests) could not be downloaded: {error}")
    results = run.outcomes()
    assert len(results) == 62, sorted(results)
    failed = {name for name, passed in results.items() if not passed}
    assert failed == set(run.KNOWN_DIFFERENCES)
