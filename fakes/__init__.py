"""Test doubles for external services: the Anthropic Messages API over HTTP, driven by the real SDK
(``fakes.anthropic_server``, re-exported here), and an in-process fake of the service's LLM
interface (``fakes.llm``) for unit tests without HTTP."""

from fakes.anthropic_server import *  # noqa: F403 - the package re-exports the server's public names
from fakes.anthropic_server import __all__ as __all__
