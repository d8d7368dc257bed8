"""What rendering a reply's Markdown costs the web chat while it streams: ``markdown.js`` (marked +
DOMPurify + the citation links + the patch into the page) run in Debian's chromium on growing
prefixes of a ~2.3 kB reply (bold, lists, inline code, two citations), as the page does at most
once per animation frame. Also whether the first list item shown is still the same node at the end
(the patch keeps what did not change). Writes bench/results/web_markdown.json.

    python -m bench.web_markdown
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from bench.common import REPO, write_result

CHROMIUM = Path("/usr/bin/chromium")
STATIC = REPO / "service" / "web" / "static"
SCRIPTS = ("vendor/marked.umd.js", "vendor/purify.min.js", "markdown.js")
STEP = 8  # characters per render: a streamed delta is a token or a few
RUNS = 5

MEASURE = """([step, runs]) => {
  const unit = "Card refunds take **5–10 business days** [1]. Check your statement.\\n\\n" +
    "- first *point* with `code`\\n- second point [2]\\n\\n";
  const text = unit.repeat(20);
  const target = document.getElementById('reply');
  const citations = [{index: 1}, {index: 2}];
  const times = [];
  let kept = true;
  for (let run = 0; run < runs; run++) {
    target.replaceChildren();
    let first = null;
    for (let end = step; end <= text.length + step - 1; end += step) {
      const t0 = performance.now();
      faqstreamMarkdown.render(target, text.slice(0, end), citations, 'm1');
      times.push(performance.now() - t0);
      first = first || target.querySelector('li');
    }
    kept = kept && first === target.querySelector('li');
  }
  return {chars: text.length, times, firstItemKept: kept};
}"""


def pct(data: list[float], q: float) -> float:
    ordered = sorted(data)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        page.set_content('<div id="reply"></div><p id="newtab" hidden>opens in a new tab</p>')
        for script in SCRIPTS:
            page.add_script_tag(path=str(STATIC / script))
        measured: dict[str, Any] = page.evaluate(MEASURE, [STEP, RUNS])
        version = browser.version
        browser.close()
    times: list[float] = measured["times"]
    write_result(
        "web_markdown",
        {
            "what": f"markdown.js render of a {measured['chars']}-character reply at every {STEP}th "
            f"character, {RUNS} runs, headless chromium {version}; shared busy 2-core machine",
            "renders": len(times),
            "p50_ms": pct(times, 0.5),
            "p95_ms": pct(times, 0.95),
            "max_ms": pct(times, 1.0),
            "first_item_kept": measured["firstItemKept"],
            "vendored_bytes": {s: (STATIC / s).stat().st_size for s in SCRIPTS},
        },
    )


if __name__ == "__main__":
    main()
