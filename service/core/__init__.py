"""What every package of the service shares and owns nothing of the answer: Prometheus metrics
(``metrics.py``) and the bounded background queue with drain-on-shutdown (``background.py``) that
the usage ledger and the webhook senders run on.
"""
