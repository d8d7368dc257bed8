"""Outgoing webhooks: signed JSON POSTs (handoffs, budget alerts) delivered from a bounded
background queue with tenacity retries, so the caller never waits for the receiver.
"""
