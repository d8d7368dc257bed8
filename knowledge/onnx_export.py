"""One-time export of a sentence-transformers model to ONNX, cached under EMBEDDING_CACHE_DIR.

The exported graph includes the model's own pooling and normalisation, so ONNX Runtime returns
exactly what ``SentenceTransformer.encode`` returns (a test pins this). After the export the
service never imports torch.

Export format 2 traces the transformer with its eager attention: the SDPA trace added masking ops
(``IsNaN``/``Where`` on the attention weights, more shape arithmetic) that cost CPU on every
pass. onnxruntime's fused ``Attention``/``QAttention`` was measured and not taken: no faster for
a batch of questions, 7-bit QKV weights, Bitext hit@5 0.25 points lower (docs/benchmarks.md,
"Query embedding CPU").
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from knowledge.embedder import (
    ModelInfo,
    info_to_json,
    load_sentence_transformer,
    model_info_from,
    resolve_model,
)
from knowledge.errors import ModelLoadError
from knowledge.settings import EmbeddingSettings

log = logging.getLogger(__name__)

EXPORT_FORMAT = 2


def _cache_key(settings: EmbeddingSettings, export_format: int = EXPORT_FORMAT) -> str:
    ident, local = resolve_model(settings.model, settings.cache_dir)
    parts: list[str] = [ident, str(export_format), settings.effective_precision]
    if local is not None:
        for path in sorted(local.rglob("*")):
            if path.is_file():
                stat = path.stat()
                parts.append(f"{path.relative_to(local)}:{stat.st_size}:{int(stat.st_mtime)}")
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    slug = "".join(c if c.isalnum() else "-" for c in ident.rsplit("/", 1)[-1])[:40]
    return f"{slug}-{digest}"


def export_folder(settings: EmbeddingSettings, export_format: int = EXPORT_FORMAT) -> Path:
    """Where the export of ``settings`` is cached (an earlier format's folder for benchmarks)."""
    return settings.cache_dir / _cache_key(settings, export_format)


def ensure_onnx_model(settings: EmbeddingSettings) -> Path:
    folder = export_folder(settings)
    if (folder / "model.onnx").exists() and (folder / "info.json").exists():
        return folder
    log.warning("exporting embedding model %s to ONNX (once) in %s", settings.model, folder)
    st = load_sentence_transformer(settings.model, settings)
    info, tokenizer = model_info_from(st, resolve_model(settings.model, settings.cache_dir)[0], settings)
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=settings.cache_dir))
    try:
        if settings.effective_precision == "int8":
            _export(st, info, staging / "fp32.onnx")
            _quantise(staging / "fp32.onnx", staging / "model.onnx")
            (staging / "fp32.onnx").unlink()
        else:
            _export(st, info, staging / "model.onnx")
        tokenizer.save(str(staging / "tokenizer.json"))
        (staging / "info.json").write_text(json.dumps(info_to_json(info), indent=2))
        try:
            os.replace(staging, folder)
        except OSError:
            if not (folder / "model.onnx").exists():  # another process did not win the race
                raise
    except Exception as exc:
        raise ModelLoadError(
            f"ONNX export of {settings.model} failed: {exc}",
            hint="set EMBEDDING_BACKEND=torch to run the model with torch",
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _export(st: Any, info: ModelInfo, target: Path) -> None:
    import torch

    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in info.input_names]

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.st(dict(zip(names, inputs, strict=True)))["sentence_embedding"]  # type: ignore[no-any-return]

    sample = torch.ones((2, 8), dtype=torch.long)
    args = tuple(sample if n != "token_type_ids" else torch.zeros_like(sample) for n in names)
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["embedding"] = {0: "batch"}
    with torch.inference_mode(), _quiet_tracing(), _eager_attention(st):
        torch.onnx.export(
            Wrapper().eval(),
            args,
            str(target),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


@contextmanager
def _eager_attention(st: Any) -> Iterator[None]:
    """Trace the transformer with its eager attention (matmul, mask add, softmax, matmul);
    restored afterwards. A model without the switch, or without eager attention, is traced as it
    is (as export format 1 traced every model)."""
    model = getattr(st[0], "auto_model", None) if len(st) else None
    setter = getattr(model, "set_attn_implementation", None)
    before = getattr(getattr(model, "config", None), "_attn_implementation", None)
    if model is None or setter is None or before in (None, "eager"):
        yield
        return
    try:
        setter("eager")
    except (ValueError, ImportError) as exc:  # a model without eager attention
        log.info("tracing %s with %s attention: %s", type(model).__name__, before, exc)
        yield
        return
    try:
        yield
    finally:
        setter(before)


def _quantise(source: Path, target: Path) -> None:
    """Dynamic int8, one scale per output channel, matrix products only (not the embeddings).

    Per-channel scales keep the cross-lingual quality of multilingual-e5-small (a per-tensor
    scale lost 4 points of zh→en hit@5); measured in docs/benchmarks.md.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_quantisation():
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )


@contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Hide what tracing says to the developer of the model, not to our user: torch's
    ``TracerWarning`` (Python conditions on tensors become constants: the exported graph is checked
    against ``SentenceTransformer.encode`` instead), torch.onnx's ``UserWarning`` about operators
    it builds from several ONNX ones and its deprecation of the exporter we chose. Other warnings,
    and these outside the export, still show."""
    from torch.jit._trace import TracerWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=TracerWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx\.")
        # we chose the TorchScript exporter (``dynamo=False``): its deprecation notices
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx\.")
        warnings.filterwarnings("ignore", "You are using the legacy TorchScript-based", DeprecationWarning)
        yield


class _PreprocessingAdvice(logging.Filter):
    """onnxruntime's "Please consider to run pre-processing before quantization" (on the root
    logger): shape inference adds nothing to a MatMul-only dynamic quantisation."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")


@contextmanager
def _quiet_quantisation() -> Iterator[None]:
    advice = _PreprocessingAdvice()
    root = logging.getLogger()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


def load_exported(folder: Path) -> tuple[ModelInfo, Tokenizer]:
    raw = json.loads((folder / "info.json").read_text())
    for key in ("prefix_ids", "suffix_ids", "input_names"):
        raw[key] = tuple(raw[key])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return ModelInfo(**raw), tokenizer
