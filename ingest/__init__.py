"""Turning policy documents into a searchable knowledge base."""
