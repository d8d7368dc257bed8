"""Answer cache for first-turn questions: exact and semantic, per language, filters and KB version.

A cached answer is served again (mode ``cached``, no upstream tokens) when a new first-turn question

* **exact**: normalises to the same text (Unicode NFKC, casefold, whitespace collapsed, leading
  ``¿¡`` and trailing punctuation stripped), or
* **semantic**: has a query vector whose cosine similarity to a cached question's is at least
  ``CACHE_SEMANTIC_THRESHOLD`` *and* carries exactly the same identifiers — every token with a digit
  (order numbers, amounts, SKUs, dates, "24/7") must match, so "refund for order 123" never gets the
  answer written for "refund for order 456". Unset, the threshold is the one measured for the
  embedding model (``SEMANTIC_THRESHOLDS``, see ``CacheSettings.for_model``); for a model without
  one, semantic matching stays off until it is set;

in the same namespace: (language, filters as canonical JSON, knowledge-base version). A new ingest
bumps the version, so older entries are never served again; they expire (``CACHE_TTL_S``).

Two implementations of one interface, chosen by whether Redis is configured:

* ``MemoryAnswerCache``: per namespace an LRU of at most ``CACHE_MAX_ENTRIES`` entries plus their
  vectors as one matrix; at most ``CACHE_MAX_NAMESPACES`` namespaces (LRU).
* ``RedisAnswerCache``: shared by all replicas, no Redis modules needed. Per namespace (one Redis
  Cluster hash slot via the ``{ns}`` hash tag): ``e:<id>`` the entry (JSON, expires with the TTL),
  ``v`` a hash id → float32 vector bytes, ``q`` a zset id → store sequence number, ``t`` a zset id →
  store time, ``n`` the sequence counter. One Lua script stores an entry and trims the namespace to
  the newest ``CACHE_MAX_ENTRIES`` live entries (deleting the trimmed entries). Similarity is computed
  client-side: each process keeps a mirror of the namespace's vectors and a lookup fetches only the
  vectors stored since its last look (same script call as the exact ``GET``), so a lookup moves a few
  hundred bytes, not the whole namespace.

``exact()`` checks the exact match alone, before anything is embedded; ``lookup()`` does both.
Caches degrade, never fail: a Redis error makes a lookup a miss and a store a no-op (logged, counted).
What may be stored at all is decided by ``should_store`` (no PII, no handoffs, no errors or
"not found" answers).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import unicodedata
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings
from redis.asyncio import Redis
from redis.exceptions import RedisError

from knowledge.errors import ConfigError
from knowledge.settings import PACKAGED_E5, PACKAGED_MINILM, EmptyIsNone, _config
from service.privacy.pii import PLACEHOLDERS, find_pii

log = logging.getLogger(__name__)

Vector = npt.NDArray[np.float32]
Clock = Callable[[], float]
MatchKind = Literal["exact", "semantic"]
Filters = BaseModel | Mapping[str, Any] | None

# Most semantic candidates (above the threshold) whose entries a lookup fetches and checks.
_CANDIDATES = 4

# The semantic threshold when CACHE_SEMANTIC_THRESHOLD is unset, per EMBEDDING_MODEL: cosine scales
# differ by model (multilingual-e5-small puts almost any two questions at 0.7-0.9). Each value is the
# lowest threshold meeting the rule of bench/answer_cache_threshold.py: no less safe, in any language,
# than all-MiniLM-L6-v2 at 0.95 was in English (Bitext precision >= 0.998, <= 1 % false hits on the
# Mintaka and XQuAD near misses); for the English-only MiniLM, on its English questions (with it no
# threshold is safe for Chinese or Thai). docs/caches.md has the figures. Another model has no
# entry: semantic hits stay off until CACHE_SEMANTIC_THRESHOLD is set.
SEMANTIC_THRESHOLDS: dict[str, float] = {PACKAGED_E5: 0.99, PACKAGED_MINILM: 0.96}


class CacheSettings(BaseSettings):
    model_config = _config("CACHE_")

    answers: bool = Field(default=True, description="answer cache for first-turn questions on/off")
    semantic: bool = Field(default=True, description="also serve near-identical questions (by embedding)")
    ttl_s: float = Field(default=86_400.0, gt=0, description="how long a cached answer may be served")
    semantic_threshold: EmptyIsNone[float] = Field(
        default=None,
        ge=0.5,
        le=1.0,
        description="cosine similarity a semantic hit needs; unset = the value measured for the "
        "embedding model (SEMANTIC_THRESHOLDS), or no semantic hits for a model without one",
    )
    max_entries: int = Field(
        default=1000, ge=1, le=100_000, description="entries kept per (language, filters, KB version)"
    )
    max_namespaces: int = Field(default=64, ge=1, le=10_000, description="in-process: namespaces kept")
    embedding_size: int = Field(
        default=4096, ge=0, le=1_000_000, description="query embeddings kept in-process; 0 = off"
    )

    def for_model(self, model: str) -> CacheSettings:
        """These settings for queries embedded by ``model`` (``EMBEDDING_MODEL``): an unset
        threshold becomes the model's measured one (``SEMANTIC_THRESHOLDS``), if it has one."""
        if self.semantic_threshold is not None or model not in SEMANTIC_THRESHOLDS:
            return self
        return self.model_copy(update={"semantic_threshold": SEMANTIC_THRESHOLDS[model]})

    @property
    def semantic_on(self) -> bool:
        """Semantic matching is on and has a threshold."""
        return self.semantic and self.semantic_threshold is not None


# --- keys -----------------------------------------------------------------------------------

_SPACE_RE = re.compile(r"\s+")
_IDENT_RE = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z_\-/.:,]*[0-9A-Za-z])?")


def normalise_question(text: str) -> str:
    """NFKC, casefold, whitespace collapsed, leading ``¿¡`` and trailing punctuation stripped."""
    s = _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    s = s.lstrip("¿¡ ")
    end = len(s)
    while end and (unicodedata.category(s[end - 1]).startswith("P") or s[end - 1].isspace()):
        end -= 1
    return s[:end]


def identifiers(normalised: str) -> tuple[str, ...]:
    """The tokens carrying a digit (order numbers, amounts, SKUs, dates), sorted; ASCII digits."""
    ascii_digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in normalised)
    return tuple(sorted({t for t in _IDENT_RE.findall(ascii_digits) if any(c.isdigit() for c in t)}))


def canonical_filters(filters: Filters) -> str:
    """Filters as canonical JSON: no empty conditions, keys sorted, list values sorted."""
    raw = filters.model_dump(mode="json", exclude_none=True) if isinstance(filters, BaseModel) else filters
    clean: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        if value is None or (isinstance(value, list | dict) and not value):
            continue
        clean[key] = sorted(value, key=str) if isinstance(value, list | tuple | set) else value
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


@dataclass(frozen=True)
class CacheKey:
    namespace: str  # (language, filters, kb_version)
    id: str  # the normalised question
    normalised: str
    identifiers: tuple[str, ...]

    @classmethod
    def build(cls, question: str, language: str, filters: Filters, kb_version: int) -> CacheKey:
        norm = normalise_question(question)
        ns = json.dumps([language.strip().lower(), canonical_filters(filters), int(kb_version)])
        return cls(_digest(ns, 10), _digest(norm, 16), norm, identifiers(norm))


# --- entries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedAnswer:
    """What replays an answer through the same SSE contract."""

    answer: str
    citations: list[dict[str, Any]]
    language: str
    mode: str  # the original mode (generative | extractive)
    model: str | None
    usage: dict[str, Any]  # the original usage incl. cost_usd: what a hit saves
    stop_reason: str | None = None


@dataclass(frozen=True)
class _Record:
    question: str
    identifiers: tuple[str, ...]
    answer: CachedAnswer
    stored_at: float
    expires_at: float

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> _Record:
        data = json.loads(raw)
        return cls(
            question=data["question"],
            identifiers=tuple(data["identifiers"]),
            answer=CachedAnswer(**data["answer"]),
            stored_at=float(data["stored_at"]),
            expires_at=float(data["expires_at"]),
        )


@dataclass(frozen=True)
class CacheHit:
    answer: CachedAnswer
    match: MatchKind
    similarity: float  # 1.0 for exact hits
    question: str  # the cached question that matched
    stored_at: float


@dataclass
class CacheStats:
    exact_hits: int = 0
    semantic_hits: int = 0
    misses: int = 0
    stores: int = 0
    errors: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.exact_hits + self.semantic_hits + self.misses
        return (self.exact_hits + self.semantic_hits) / total if total else 0.0


def _unit(vector: npt.ArrayLike) -> Vector:
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else v


# --- what may be stored ---------------------------------------------------------------------

_CACHEABLE_MODES = frozenset({"generative", "extractive"})
_CACHEABLE_STOPS = frozenset({"end_turn", "stop_sequence", "extractive"})
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in set(PLACEHOLDERS.values())))


def should_store(
    question: str,
    answer_text: str,
    handoff: bool,
    mode: str,
    *,
    stop_reason: str | None = None,
    sources: Iterable[str] = (),
) -> bool:
    """Whether an answer may go into the cache.

    Never: handoffs; replays (``cached``) or unknown modes; empty answers; answers that did not end
    normally (``stop_reason`` other than end_turn/stop_sequence/extractive, e.g. ``max_tokens``,
    ``no_relevant_passages``, errors); a question with personal data, or already redacted (a
    placeholder such as ``[email]`` shows there was some); an answer with personal data that is not
    quoted from ``sources`` (the cited passages — a company's own published support e-mail or phone
    number in its policy documents is not the customer's data).
    """
    if handoff or mode not in _CACHEABLE_MODES or not answer_text.strip():
        return False
    if stop_reason is not None and stop_reason not in _CACHEABLE_STOPS:
        return False
    if find_pii(question) or _PLACEHOLDER_RE.search(question):
        return False
    published = "\n".join(sources)
    return all(answer_text[m.start : m.end] in published for m in find_pii(answer_text))


# --- the interface --------------------------------------------------------------------------


class AnswerCache(ABC):
    """Lookup and store of first-turn answers; lookups never raise, they miss."""

    def __init__(self, settings: CacheSettings, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.stats = CacheStats()

    @property
    def enabled(self) -> bool:
        return self.settings.answers

    async def lookup(
        self,
        question: str,
        *,
        language: str,
        filters: Filters,
        kb_version: int,
        vector: npt.ArrayLike | None = None,
    ) -> CacheHit | None:
        """The cached answer for this question, or None. ``vector``: the L2-normalised query vector."""
        if not self.enabled:
            return None
        key = CacheKey.build(question, language, filters, kb_version)
        query = _unit(vector) if vector is not None and self.settings.semantic_on else None
        try:
            hit = await self._lookup(key, query)
        except (RedisError, OSError) as exc:
            self.stats.errors += 1
            log.warning("answer cache lookup failed: %s: %s", type(exc).__name__, exc)
            hit = None
        if hit is None:
            self.stats.misses += 1
        elif hit.match == "exact":
            self.stats.exact_hits += 1
        else:
            self.stats.semantic_hits += 1
        return hit

    async def exact(
        self, question: str, *, language: str, filters: Filters, kb_version: int
    ) -> CacheHit | None:
        """Exact match only, before any embedding: a hit is counted, a miss is not (the caller
        goes on to ``lookup`` with the query vector, which counts it)."""
        if not self.enabled:
            return None
        key = CacheKey.build(question, language, filters, kb_version)
        try:
            record, _ = await self._probe(key, None)
        except (RedisError, OSError) as exc:
            self.stats.errors += 1
            log.warning("answer cache lookup failed: %s: %s", type(exc).__name__, exc)
            return None
        if record is None or record.expires_at <= self.clock():
            return None
        self.stats.exact_hits += 1
        return CacheHit(record.answer, "exact", 1.0, record.question, record.stored_at)

    async def store(
        self,
        question: str,
        answer: CachedAnswer,
        *,
        language: str,
        filters: Filters,
        kb_version: int,
        vector: npt.ArrayLike | None = None,
    ) -> bool:
        """Store an answer (the caller checked ``should_store``); False if off, refused or failed.

        As a last guard, a question with personal data is refused even if the caller did not check.
        """
        if not self.enabled or find_pii(question):
            return False
        key = CacheKey.build(question, language, filters, kb_version)
        now = self.clock()
        record = _Record(question, key.identifiers, answer, now, now + self.settings.ttl_s)
        try:
            await self._store(key, record, _unit(vector) if vector is not None else None)
        except (RedisError, OSError) as exc:
            self.stats.errors += 1
            log.warning("answer cache store failed: %s: %s", type(exc).__name__, exc)
            return False
        self.stats.stores += 1
        return True

    async def _lookup(self, key: CacheKey, query: Vector | None) -> CacheHit | None:
        now = self.clock()
        exact, ranked = await self._probe(key, query)
        if exact is not None and exact.expires_at > now:
            return CacheHit(exact.answer, "exact", 1.0, exact.question, exact.stored_at)
        ranked = [(i, s) for i, s in ranked if i != key.id][:_CANDIDATES]
        if not ranked:
            return None
        records = await self._fetch(key.namespace, [i for i, _ in ranked])
        for (entry_id, similarity), record in zip(ranked, records, strict=True):
            if record is None or record.expires_at <= now:
                self._forget(key.namespace, entry_id)
            elif record.identifiers == key.identifiers:
                return CacheHit(record.answer, "semantic", similarity, record.question, record.stored_at)
        return None

    def _rank(
        self, ids: Sequence[str], matrix: Vector | None, query: Vector | None
    ) -> list[tuple[str, float]]:
        """Ids whose vectors reach the threshold, most similar first."""
        threshold = self.settings.semantic_threshold
        if threshold is None or query is None or matrix is None or not len(ids):
            return []
        if matrix.shape[1] != query.shape[0]:
            return []
        sims = matrix @ query
        above = np.flatnonzero(sims >= threshold)
        order = above[np.argsort(-sims[above], kind="stable")]
        return [(ids[i], float(sims[i])) for i in order[: _CANDIDATES + 1]]

    @abstractmethod
    async def _probe(
        self, key: CacheKey, query: Vector | None
    ) -> tuple[_Record | None, list[tuple[str, float]]]:
        """The exact record (if stored) and the semantic candidates above the threshold."""

    @abstractmethod
    async def _fetch(self, namespace: str, ids: Sequence[str]) -> list[_Record | None]: ...

    @abstractmethod
    def _forget(self, namespace: str, entry_id: str) -> None:
        """Drop a dead candidate from the local view of the namespace."""

    @abstractmethod
    async def _store(self, key: CacheKey, record: _Record, vector: Vector | None) -> None: ...

    @abstractmethod
    async def clear(self) -> None:
        """Remove every entry of this cache."""


# --- in-process -----------------------------------------------------------------------------


@dataclass
class _Namespace:
    records: OrderedDict[str, _Record] = field(default_factory=OrderedDict)
    vectors: dict[str, Vector] = field(default_factory=dict)
    _matrix: tuple[list[str], Vector | None] | None = None

    def matrix(self) -> tuple[list[str], Vector | None]:
        if self._matrix is None:
            ids = list(self.vectors)
            self._matrix = (ids, np.stack([self.vectors[i] for i in ids]) if ids else None)
        return self._matrix

    def remove(self, entry_id: str) -> None:
        self.records.pop(entry_id, None)
        if self.vectors.pop(entry_id, None) is not None:
            self._matrix = None


class MemoryAnswerCache(AnswerCache):
    """One process; bounded LRU of namespaces, each a bounded LRU of entries."""

    def __init__(self, settings: CacheSettings, clock: Clock = time.time) -> None:
        super().__init__(settings, clock)
        self._spaces: OrderedDict[str, _Namespace] = OrderedDict()

    async def _probe(
        self, key: CacheKey, query: Vector | None
    ) -> tuple[_Record | None, list[tuple[str, float]]]:
        space = self._spaces.get(key.namespace)
        if space is None:
            return None, []
        self._spaces.move_to_end(key.namespace)
        record = space.records.get(key.id)
        if record is not None:
            if record.expires_at > self.clock():
                space.records.move_to_end(key.id)
                return record, []
            space.remove(key.id)
            record = None
        ids, matrix = space.matrix()
        return record, self._rank(ids, matrix, query)

    async def _fetch(self, namespace: str, ids: Sequence[str]) -> list[_Record | None]:
        space = self._spaces.get(namespace)
        return [space.records.get(i) if space else None for i in ids]

    def _forget(self, namespace: str, entry_id: str) -> None:
        if (space := self._spaces.get(namespace)) is not None:
            space.remove(entry_id)

    async def _store(self, key: CacheKey, record: _Record, vector: Vector | None) -> None:
        space = self._spaces.get(key.namespace)
        if space is None:
            space = self._spaces[key.namespace] = _Namespace()
            while len(self._spaces) > self.settings.max_namespaces:
                self._spaces.popitem(last=False)
        self._spaces.move_to_end(key.namespace)
        space.remove(key.id)
        space.records[key.id] = record
        if vector is not None:
            space.vectors[key.id] = vector
            space._matrix = None
        now = self.clock()
        for entry_id in [i for i, r in space.records.items() if r.expires_at <= now]:
            space.remove(entry_id)
        while len(space.records) > self.settings.max_entries:
            space.remove(next(iter(space.records)))

    async def clear(self) -> None:
        self._spaces.clear()

    def __len__(self) -> int:
        return sum(len(s.records) for s in self._spaces.values())


# --- Redis ----------------------------------------------------------------------------------

# KEYS: entry, vectors hash, seq zset, time zset, counter.
# ARGV: id, record json, vector bytes ('' = none), ttl ms, max entries, now ms, entry key prefix.
_STORE_LUA = """
local id, ttl, cap, now = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
local seq = redis.call('INCR', KEYS[5])
redis.call('ZADD', KEYS[3], seq, id)
redis.call('ZADD', KEYS[4], now, id)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], id, ARGV[3]) else redis.call('HDEL', KEYS[2], id) end
local drop = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. (now - ttl))
local extra = redis.call('ZCARD', KEYS[3]) - cap
if extra > 0 then
  for _, x in ipairs(redis.call('ZRANGE', KEYS[3], 0, extra - 1)) do table.insert(drop, x) end
end
for _, x in ipairs(drop) do
  redis.call('ZREM', KEYS[3], x)
  redis.call('ZREM', KEYS[4], x)
  redis.call('HDEL', KEYS[2], x)
  redis.call('DEL', ARGV[7] .. x)
end
for i = 2, 5 do redis.call('PEXPIRE', KEYS[i], ttl) end
return seq
"""

# KEYS: entry, vectors hash, seq zset, counter.  ARGV: last seen seq, sync (0/1).
# Returns {entry or false, current seq, {id, seq, id, seq...}, {vector...}}.
_PROBE_LUA = """
local entry = redis.call('GET', KEYS[1])
local current = tonumber(redis.call('GET', KEYS[4]) or '0')
local since = tonumber(ARGV[1])
if current < since then since = 0 end
local members, vectors = {}, {}
if ARGV[2] == '1' and current > since then
  members = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. since, '+inf', 'WITHSCORES')
  local ids = {}
  for i = 1, #members, 2 do
    table.insert(ids, members[i])
    if #ids == 500 or i + 1 == #members then
      for _, v in ipairs(redis.call('HMGET', KEYS[2], unpack(ids))) do table.insert(vectors, v) end
      ids = {}
    end
  end
end
return {entry or false, current, members, vectors}
"""


@dataclass
class _Mirror:
    """This process's copy of a namespace's vectors, kept current by sequence number."""

    seq: int = 0
    rows: dict[str, tuple[int, Vector]] = field(default_factory=dict)
    _matrix: tuple[list[str], Vector | None] | None = None

    def apply(self, members: list[tuple[str, int, Vector | None]], cap: int) -> None:
        changed = False
        for entry_id, seq, vector in members:
            known = self.rows.get(entry_id)
            if known is not None and known[0] >= seq:
                continue
            changed = True
            if vector is None:
                self.rows.pop(entry_id, None)
            else:
                self.rows[entry_id] = (seq, vector)
        if len(self.rows) > cap:  # the store script keeps the newest `cap` by sequence: do the same
            keep = sorted(self.rows.items(), key=lambda kv: kv[1][0])[-cap:]
            self.rows = dict(keep)
        if changed:
            self._matrix = None

    def matrix(self) -> tuple[list[str], Vector | None]:
        if self._matrix is None:
            ids = list(self.rows)
            self._matrix = (ids, np.stack([self.rows[i][1] for i in ids]) if ids else None)
        return self._matrix

    def drop(self, entry_id: str) -> None:
        if self.rows.pop(entry_id, None) is not None:
            self._matrix = None


class RedisAnswerCache(AnswerCache):
    """Shared by every replica; see the module docstring for the key layout."""

    def __init__(
        self,
        redis: Redis,
        settings: CacheSettings,
        *,
        key_prefix: str = "faqstream:answers:",
        clock: Clock = time.time,
    ) -> None:
        super().__init__(settings, clock)
        if redis.connection_pool.connection_kwargs.get("decode_responses"):
            raise ConfigError(
                "the answer cache stores vectors as bytes: its Redis client needs decode_responses=False"
            )
        self.redis = redis
        self.prefix = key_prefix
        self._store_script = redis.register_script(_STORE_LUA)
        self._probe_script = redis.register_script(_PROBE_LUA)
        self._mirrors: OrderedDict[str, _Mirror] = OrderedDict()

    def _key(self, namespace: str, part: str) -> str:
        return f"{self.prefix}{{{namespace}}}:{part}"

    def _entry_prefix(self, namespace: str) -> str:
        return self._key(namespace, "e:")

    def _mirror(self, namespace: str) -> _Mirror:
        mirror = self._mirrors.get(namespace)
        if mirror is None:
            mirror = self._mirrors[namespace] = _Mirror()
            while len(self._mirrors) > self.settings.max_namespaces:
                self._mirrors.popitem(last=False)
        self._mirrors.move_to_end(namespace)
        return mirror

    async def _probe(
        self, key: CacheKey, query: Vector | None
    ) -> tuple[_Record | None, list[tuple[str, float]]]:
        ns = key.namespace
        mirror = self._mirror(ns)
        since = mirror.seq  # concurrent probes may advance mirror.seq before this reply is read
        keys = [self._entry_prefix(ns) + key.id, self._key(ns, "v"), self._key(ns, "q"), self._key(ns, "n")]
        raw, current, members, vectors = await self._probe_script(
            keys=keys, args=[since, 1 if query is not None else 0]
        )
        record = _decode(raw)
        if query is None:
            return record, []
        current = int(current)
        if current < since:  # the namespace expired and started again (the script sent all of it)
            mirror = self._mirrors[ns] = _Mirror()
        pairs = [
            (members[i].decode(), int(float(members[i + 1])), vectors[i // 2])
            for i in range(0, len(members), 2)
        ]
        mirror.apply(
            [(i, s, np.frombuffer(v, dtype="<f4").astype(np.float32) if v else None) for i, s, v in pairs],
            self.settings.max_entries,
        )
        mirror.seq = max(mirror.seq, current)
        if record is not None and record.expires_at > self.clock():
            return record, []
        ids, matrix = mirror.matrix()
        return record, self._rank(ids, matrix, query)

    async def _fetch(self, namespace: str, ids: Sequence[str]) -> list[_Record | None]:
        raws = await self.redis.mget([self._entry_prefix(namespace) + i for i in ids])
        return [_decode(r) for r in raws]

    def _forget(self, namespace: str, entry_id: str) -> None:
        if (mirror := self._mirrors.get(namespace)) is not None:
            mirror.drop(entry_id)

    async def _store(self, key: CacheKey, record: _Record, vector: Vector | None) -> None:
        ns = key.namespace
        ttl_ms = max(1, round(self.settings.ttl_s * 1000))
        await self._store_script(
            keys=[
                self._entry_prefix(ns) + key.id,
                self._key(ns, "v"),
                self._key(ns, "q"),
                self._key(ns, "t"),
                self._key(ns, "n"),
            ],
            args=[
                key.id,
                record.to_json(),
                vector.astype("<f4").tobytes() if vector is not None else b"",
                ttl_ms,
                self.settings.max_entries,
                round(record.stored_at * 1000),
                self._entry_prefix(ns),
            ],
        )

    async def clear(self) -> None:
        batch: list[bytes] = []
        async for name in self.redis.scan_iter(match=f"{_glob_escape(self.prefix)}*", count=500):
            batch.append(name)
            if len(batch) >= 500:
                await self.redis.delete(*batch)
                batch = []
        if batch:
            await self.redis.delete(*batch)
        self._mirrors.clear()


def _decode(raw: bytes | str | None) -> _Record | None:
    """A stored entry, or None when absent or unreadable (written by an incompatible version)."""
    if not raw:
        return None
    try:
        return _Record.from_json(raw)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("answer cache: unreadable entry ignored: %s", type(exc).__name__)
        return None


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def build_answer_cache(
    settings: CacheSettings,
    redis: Redis | None = None,
    *,
    key_prefix: str = "faqstream:answers:",
    clock: Clock = time.time,
) -> AnswerCache:
    """Redis-backed when a client is given (``REDIS_URL`` set), in-process otherwise."""
    if redis is not None:
        return RedisAnswerCache(redis, settings, key_prefix=key_prefix, clock=clock)
    return MemoryAnswerCache(settings, clock)
