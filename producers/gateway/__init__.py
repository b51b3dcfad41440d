"""The HTTP gateway: partner systems and KoboToolbox forms report over HTTPS with tokens.

- :mod:`.settings`: what the gateway can be told (limits, where tokens live);
- :mod:`.tokens`: per-partner tokens, stored only as salted hashes;
- :mod:`.body`: reading a request body within its limits (size, time, count, depth);
- :mod:`.publishing`: one validation (``producers.prepare``) and one durable producer;
- :mod:`.kobo`: KoboToolbox submissions mapped to contract events;
- :mod:`.app`: the FastAPI application; :mod:`.serve`: running it on uvicorn.

This is the partner side of the hub: it must not import ``partnerhub``.
"""
