"""The web console and JSON API (``raksha serve``): FastAPI, server-rendered pages.

``raksha.web.app.create_app`` is the factory; ``raksha.web.registry`` says which role may
open which route; ``raksha.web.security`` enforces it with sessions, CSRF and audit of
reads; ``docs/web.md`` describes it for users.
"""
