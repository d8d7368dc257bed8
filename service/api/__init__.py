"""The HTTP layer: the Litestar app factory (``app``), its routes (``answers``, ``ops``, ``admin``),
auth as guards and dependencies (``guards``, ``auth``), the one error map (``errors``), the answer's
events on the wire and their metrics (``events``, ``sse``), the request/response bodies
(``schemas``) and the process's composition root (``runtime``)."""
