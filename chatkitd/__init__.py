"""chatkitd: a self-hosted ChatKit platform.

One server, two faces over one store: the ChatKit REST API that integrators
call with an admin key through the official ``openai`` SDK, and the
conversation runtime that a session's client secret unlocks.
"""

__version__ = "0.1.0"
