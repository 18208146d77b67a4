"""`pocketchat serve`: the HTTP front door (Starlette on uvicorn), beside `cli/`.

A turn asked over HTTP is a *run*: a record with an append-only event log (`runs`,
`run_events`), worked by a thread that runs the same YAML turn flow as `chat`; the HTTP stream
is only a view of that log (replayed from `Last-Event-ID`, then followed live). See
docs/design.md ("Serve") and docs/serve.md.
"""
