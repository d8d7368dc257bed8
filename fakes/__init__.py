"""Test doubles for external services, driven by the real client libraries over HTTP."""

from fakes.anthropic_server import *  # noqa: F403 - the package re-exports the server's public names
from fakes.anthropic_server import __all__ as __all__
