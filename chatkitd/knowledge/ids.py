"""Identifiers in OpenAI's style for files (``file-…``), vector stores (``vs_…``) and batches (``vsfb_…``).

Like ``chatkitd.ids``, each carries 128 random bits.
"""

import secrets


def new_file_id() -> str:
    return f"file-{secrets.token_hex(16)}"


def new_vector_store_id() -> str:
    return f"vs_{secrets.token_hex(16)}"


def new_batch_id() -> str:
    return f"vsfb_{secrets.token_hex(16)}"
