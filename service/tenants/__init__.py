"""Tenants and their API keys: keys stored hashed in the service's database (``store.py``), their
format and hash (``secret.py``), and the service's cached view of them (``directory.py``) that the
HTTP layer asks who is calling. ``faqstream keys`` manages them; a change takes effect in running
services within ``AUTH_KEY_CACHE_TTL_S``.
"""
