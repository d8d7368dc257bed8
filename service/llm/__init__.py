"""Claude: the one LLM interface (``interface.LLM``: a streamed answer and one-shot completions),
the raw SDK client (``claude``), and the resilient layer every production call goes through
(``resilient``: retries, per-model circuit breakers, fallback models, the upstream pool), with its
policy, breakers, admission, metrics, the key's status and token pricing."""
