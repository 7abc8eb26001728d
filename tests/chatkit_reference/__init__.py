"""Running ``openai-chatkit``'s own store and server tests against chatkitd's store (``run.py``)."""
