"""Traces of agent runs, kept in chatkitd's own database and never sent to OpenAI."""
