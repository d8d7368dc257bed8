"""Intent routing: which of the intents file's labels a question is, with a calibrated confidence.

``route`` holds what routing returns (``Route``) and the ``Router`` protocol; ``router`` is the
local router (embedding similarity, calibrated per language by ``calibration``) over the labels and
examples of ``catalog`` (the intents file); ``llm_router`` asks Claude and falls back to the local
router; ``factory.build_router`` picks the configured one; ``settings`` holds ``ROUTER_``. Whether a
route hands the customer to a person is decided by ``service.handoff``, not here.
"""
