"""Models a workflow can run on: OpenAI, any OpenAI-compatible server, or an offline script."""
