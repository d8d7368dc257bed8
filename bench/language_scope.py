"""Which languages the detector can report (``INGEST_DETECT_ALSO``): accuracy and cost, before/after.

``before``: the detector over the old default INGEST_LANGUAGES alone (12 languages, no Ukrainian,
``INGEST_DETECT_ALSO=none``) — any other language was reported as its nearest configured one.
``after``: the current defaults (13 languages with Ukrainian, plus their look-alikes,
``knowledge.language.NEIGHBOURS``, reported when lingua's first choice at 0.5 or more).
``all``: ``INGEST_DETECT_ALSO=all`` (every language lingua knows), for the cost.

Accuracy (``LanguageIdentifier.detect``, as the service calls it):
* configured languages: XQuAD questions (en, de, es, ru, zh; 1,190 each) and Mintaka questions (en,
  de, es, fr, it, ja, pt; 2,000 each), /work/shared/eval — must not get worse;
* other languages: XQuAD questions in ro, tr, vi, el, ar, hi, th (1,190 each; independent) and the
  sentences and short messages of ``bench.language_scope_data`` (uk, be, cs, sk, ca, nb, da, sv,
  bg, sr, hr, sl; written for this benchmark): share reported as the right language, and what they
  were reported as instead.
Cost, each detector in a fresh process (lingua's models are process-wide): resident memory added by
building the preloaded detector, CPU to build it, CPU per XQuAD question and per short message.

    .venv/bin/python -m bench.language_scope
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from typing import Any

import psutil

from bench.common import EVAL, read_jsonl, write_result
from bench.language_scope_data import SENTENCES, SHORT
from knowledge.language import LanguageIdentifier, extra_languages
from knowledge.settings import IngestSettings

OLD_LANGUAGES = ("en", "zh", "es", "fr", "de", "ja", "pt", "it", "nl", "ru", "ko", "pl")
CONFIGS: dict[str, tuple[tuple[str, ...], str]] = {
    "before": (OLD_LANGUAGES, "none"),
    "after": (IngestSettings.model_fields["languages"].default, "neighbours"),
    "all": (IngestSettings.model_fields["languages"].default, "all"),
}
XQUAD_CONFIGURED = ("en", "de", "es", "ru", "zh")
MINTAKA_CONFIGURED = ("en", "de", "es", "fr", "it", "ja", "pt")
XQUAD_OTHER = ("ro", "tr", "vi", "el", "ar", "hi", "th")
SHORT_MESSAGES = ("Hello!", "Danke", "refund?", "and per week?", "Добрий день!", "Dzień dobry", "ok", "谢谢")


def detector(config: str) -> LanguageIdentifier:
    languages, also = CONFIGS[config]
    return LanguageIdentifier(languages, "en", also=extra_languages(languages, also))


def questions() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    xquad: dict[str, list[str]] = defaultdict(list)
    for row in read_jsonl(EVAL / "xquad_retrieval.jsonl"):
        xquad[row["lang"]].append(row["question"])
    mintaka: dict[str, list[str]] = defaultdict(list)
    for row in read_jsonl(EVAL / "mintaka_queries.jsonl"):
        mintaka[row["lang"]].append(row["question"])
    return xquad, mintaka


def share(found: list[str], gold: str) -> dict[str, Any]:
    counts = Counter(found)
    instead = {lang: n for lang, n in counts.most_common(4) if lang != gold}
    return {"n": len(found), "right": round(counts[gold] / len(found), 4), "instead": instead}


def accuracy(config: str) -> dict[str, Any]:
    ident = detector(config)
    xquad, mintaka = questions()

    def run(texts: list[str], gold: str) -> dict[str, Any]:
        return share([ident.detect(t).language for t in texts], gold)

    return {
        "configured": {
            **{f"xquad-{lang}": run(xquad[lang], lang) for lang in XQUAD_CONFIGURED},
            **{f"mintaka-{lang}": run(mintaka[lang], lang) for lang in MINTAKA_CONFIGURED},
        },
        "other": {
            **{f"xquad-{lang}": run(xquad[lang], lang) for lang in XQUAD_OTHER},
            **{f"sentences-{lang}": run(list(texts), lang) for lang, texts in SENTENCES.items()},
            **{f"short-{lang}": run(list(texts), lang) for lang, texts in SHORT.items()},
        },
    }


def cost(config: str) -> dict[str, Any]:
    """In this process (call it in a fresh one)."""
    process = psutil.Process()
    before, cpu = process.memory_info().rss, time.process_time()
    ident = detector(config)
    ident.detect("warm up")
    built = time.process_time() - cpu
    added = process.memory_info().rss - before
    xquad, _ = questions()
    texts = [q for lang in sorted(xquad) for q in xquad[lang][::5]]
    cpu = time.process_time()
    for text in texts:
        ident.detect(text)
    per_question = (time.process_time() - cpu) / len(texts)
    cpu = time.process_time()
    for _ in range(100):
        for text in SHORT_MESSAGES:
            ident.detect(text)
    per_short = (time.process_time() - cpu) / (100 * len(SHORT_MESSAGES))
    return {
        "languages": len(ident.languages),
        "rss_mib": round(added / 2**20),
        "build_cpu_s": round(built, 1),
        "ms_per_question": round(per_question * 1000, 3),
        "ms_per_short_message": round(per_short * 1000, 3),
        "questions": len(texts),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--cost":
        print(json.dumps(cost(sys.argv[2])))
        return
    result: dict[str, Any] = {"cost": {}, "accuracy": {}}
    for config in CONFIGS:
        out = subprocess.run(
            [sys.executable, "-m", "bench.language_scope", "--cost", config],
            check=True,
            capture_output=True,
            text=True,
        )
        result["cost"][config] = json.loads(out.stdout.strip().splitlines()[-1])
        print(config, result["cost"][config], flush=True)
    for config in ("before", "after"):
        result["accuracy"][config] = accuracy(config)
    for group in ("configured", "other"):
        for key in result["accuracy"]["before"][group]:
            old = result["accuracy"]["before"][group][key]
            new = result["accuracy"]["after"][group][key]
            print(f"{key:16} {old['right']:.3f} → {new['right']:.3f}", old["instead"], new["instead"])
    write_result("language_scope", result)


if __name__ == "__main__":
    main()
