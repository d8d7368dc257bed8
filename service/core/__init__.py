"""What every package of the service shares and owns nothing of the answer — leaf modules that
import nothing else of the service: value types (``types``: Usage, Citation, Mode, Client),
Prometheus metrics (``metrics``), the bounded background queue with drain-on-shutdown
(``background``: after-answer work, the usage ledger, webhooks), the one text clipper (``text``),
language display names (``languages``), the one Retry-After parser (``retry_after``), Redis key
building (``redis_keys``) and the token-usage protocol (``tokens``).
"""
