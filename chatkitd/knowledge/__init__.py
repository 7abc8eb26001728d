"""Knowledge: OpenAI-compatible files and vector stores, their ingestion, and search over them."""
