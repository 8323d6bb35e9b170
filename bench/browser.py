"""The page as a visitor meets it: real headless Chromium (Debian's /usr/bin/chromium, Playwright) on this machine.

    python bench/browser.py                           # 20 translations, 20 step moves, 3 cold starts
    python bench/browser.py --app-dir /tmp/base       # another checkout's app.py (a "before" figure)

Figures, each beside its target (issue 15):
- cold start: ``python app.py`` spawned -> ``GET /`` answers 200 (the page is served); median of --starts
- first translation after start: Enter -> page settled, the first translation a fresh server makes
- Enter -> Spanish text (p50), and Enter -> page settled (p50, p95), over --translations sentences in turn
- step slider moved -> panel redrawn (p50): one arrow key on the focused slider -> page settled

How the times are taken, all inside the page with performance.now(), so Playwright's own latency never counts:
a capturing keydown listener stamps the key (Enter, or an arrow key on the slider); a MutationObserver over the
whole document (subtree, child lists, attributes, text) stamps every DOM change after it, and an animation frame
requested from each change stamps when that change can be on screen. "Settled" is the frame after the last
change that is followed by --quiet-ms without any change (Gradio's progress timer and plotly's redraws are
changes, so a page still waiting on the server or still drawing is not settled; the text of Gradio's invisible
screen-reader announcements is not). "Spanish text" is the first
change or frame at which the Spanish box holds new text (a textarea's value is not a DOM change, so it is also
read every frame). Each translation is checked afterwards: the heatmap has one row per Spanish piece shown.
Pause training first (docs/performance.md): the figures are for an otherwise idle 2-core machine. On a machine
that others keep busy, --boost gives this benchmark's processes (the app, and Chromium, which Playwright starts in
a session of its own) a larger share of the cores: Linux schedules each session's processes as one group, so plain
`nice` cannot, but a group's own nice value (/proc/PID/autogroup, root only) can.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, SENTENCES, percentile, print_table
from server import App, spawn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [  # ../shared/notes/gradio-and-spaces.md: the flags that work on this machine
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TARGETS_MS = {"text p50": 80, "settled p50": 200, "settled p95": 400, "first": 1000, "step p50": 50, "cold": 4000}
WAIT_MS = 120_000  # a busy machine is slow, not broken
LONG_SENTENCE = SENTENCES[5]  # many output steps for the slider to walk through

# Installed before the page's own scripts; window.__bench holds the stamps of the latest key.
PROBE = """
(() => {
  const stamps = {key: null, text: null, changed: null, framed: null, previous: null, changes: 0, last: ""};
  const element = (node) => (node.nodeType === 1 ? node : node.parentElement);
  const describe = (node) => {  // the element that changed last: what kept the page busy
    const changed = element(node), owner = changed?.closest("[id]:not([id=''])");
    return `${owner ? "#" + owner.id : "(no id)"} ${changed?.tagName.toLowerCase()}.${changed?.classList[0] ?? ""}`;
  };
  // Screen-reader announcements (Gradio's .sr-only live region) change unseen, a second after the rest.
  const seen = (record) => !element(record.target)?.closest(".sr-only");
  const spanish = () => document.querySelector(SPANISH)?.value ?? "";
  const seeText = () => {
    if (stamps.key !== null && stamps.text === null && spanish() && spanish() !== stamps.previous)
      stamps.text = performance.now();
  };
  new MutationObserver((all) => {
    const records = all.filter(seen);
    if (stamps.key === null || records.length === 0) return;
    stamps.changed = performance.now();
    stamps.changes += 1;
    stamps.last = describe(records[records.length - 1].target);
    seeText();
    requestAnimationFrame(() => { stamps.framed = performance.now(); seeText(); });
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  const everyFrame = () => { seeText(); requestAnimationFrame(everyFrame); };
  requestAnimationFrame(everyFrame);
  addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && !event.key.startsWith("Arrow")) return;
    Object.assign(stamps, {key: performance.now(), text: null, changed: null, framed: null, changes: 0, last: ""});
    stamps.previous = spanish();
  }, true);
  window.__bench = stamps;
})();
"""
SETTLED = (
    "q => { const s = window.__bench;"
    " return s.framed !== null && s.framed >= s.changed && performance.now() - s.changed > q; }"
)
TEXT_AND_SETTLED = "q => window.__bench.text !== null && (" + SETTLED + ")(q)"


@dataclass
class Selectors:
    source: str = "#source textarea"
    spanish: str = "#spanish textarea"
    slider: str = "#step input[type=range]"
    heatmap_rows: str = "#attention-plot .ytick"
    pieces: str = "#target-pieces .chip"


@dataclass
class Figures:
    text_ms: list[float] = field(default_factory=list)
    settled_ms: list[float] = field(default_factory=list)
    step_ms: list[float] = field(default_factory=list)
    cold_s: list[float] = field(default_factory=list)
    usable_s: list[float] = field(default_factory=list)  # spawn -> the English box is on screen in the browser
    first_ms: list[float] = field(default_factory=list)
    last_changed: Counter = field(default_factory=Counter)  # the element whose change ended each wait
    incomplete: int = 0  # translations whose heatmap rows did not match the Spanish pieces once settled


def boost(nice: int = -15) -> None:
    """Every process this one started, and this one: their sessions' scheduling groups get ``nice``."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(status.parent.name)] = int(fields[1])
    ours = {os.getpid()}
    for pid in sorted(parents):  # children have larger ids than their parents, except after a wrap-around
        if parents[pid] in ours:
            ours.add(pid)
    for pid in ours:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/autogroup").write_text(str(nice))


def wait_served(app: App, timeout: float = 120.0) -> float:
    """Seconds from spawning app.py to its page (GET /) answering 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {app.process.returncode}")
        try:
            with urllib.request.urlopen(app.url, timeout=2) as answer:
                if answer.status == 200:
                    return time.perf_counter() - app.started
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{app.url} served nothing within {timeout:.0f} s")


def open_page(browser, url: str, selectors: Selectors, quiet_ms: int):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(WAIT_MS)
    page.add_init_script(PROBE.replace("SPANISH", repr(selectors.spanish)))
    page.goto(url)
    page.wait_for_selector(selectors.source)
    page.wait_for_timeout(quiet_ms)  # the page's own start-up changes are over
    return page


def stamps(page) -> dict:
    return page.evaluate("({...window.__bench})")


def translate(page, sentence: str, selectors: Selectors, quiet_ms: int) -> tuple[float, float, bool, str]:
    """Type ``sentence``, press Enter -> (ms to the Spanish text, ms to settled, heatmap complete, last change)."""
    page.fill(selectors.source, sentence)
    page.wait_for_timeout(100)  # typing's own changes (the box resizing) end before the key is stamped
    page.press(selectors.source, "Enter")
    page.wait_for_function(TEXT_AND_SETTLED, arg=quiet_ms, polling=50)
    done = stamps(page)
    rows, pieces = page.locator(selectors.heatmap_rows).count(), page.locator(selectors.pieces).count()
    complete = rows == pieces or pieces == 0
    return done["text"] - done["key"], done["framed"] - done["key"], complete, done["last"]


def move_step(page, selectors: Selectors, key: str, quiet_ms: int) -> tuple[float, str]:
    """One arrow key on the focused step slider -> (ms until the page settled again, last change)."""
    page.press(selectors.slider, key)
    page.wait_for_function(SETTLED, arg=quiet_ms, polling=50)
    done = stamps(page)
    return done["framed"] - done["key"], done["last"]


def cold_starts(playwright, args, selectors: Selectors, figures: Figures) -> None:
    """Fresh servers: time to serve the page, and the first translation each one makes."""
    for _ in range(args.starts):
        app = spawn(args.model, app_dir=args.app_dir)
        try:
            figures.cold_s.append(wait_served(app))
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            if args.boost:
                boost()
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.add_init_script(PROBE.replace("SPANISH", repr(selectors.spanish)))
            page.goto(app.url)
            page.wait_for_selector(selectors.source)
            figures.usable_s.append(time.perf_counter() - app.started)
            page.wait_for_timeout(args.quiet_ms)
            figures.first_ms.append(translate(page, SENTENCES[0], selectors, args.quiet_ms)[1])
            browser.close()
        finally:
            app.stop()


def warm_figures(playwright, args, selectors: Selectors, figures: Figures) -> None:
    """One server, one visitor: translations in turn, then the step slider walked through a long sentence."""
    app = spawn(args.model, app_dir=args.app_dir)
    try:
        wait_served(app)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        if args.boost:
            boost()
        page = open_page(browser, app.url, selectors, args.quiet_ms)
        for index in range(args.warmup + args.translations):
            sentence = SENTENCES[index % len(SENTENCES)]
            text_ms, settled_ms, complete, last = translate(page, sentence, selectors, args.quiet_ms)
            if index >= args.warmup:
                figures.text_ms.append(text_ms)
                figures.settled_ms.append(settled_ms)
                figures.incomplete += not complete
                figures.last_changed[f"translation: {last}"] += 1
        translate(page, LONG_SENTENCE, selectors, args.quiet_ms)
        page.focus(selectors.slider)
        for index in range(args.warmup + args.steps):
            key = "ArrowRight" if (index // 5) % 2 == 0 else "ArrowLeft"  # five steps on, five back
            elapsed, last = move_step(page, selectors, key, args.quiet_ms)
            if index >= args.warmup:
                figures.step_ms.append(elapsed)
                figures.last_changed[f"step move: {last}"] += 1
        browser.close()
    finally:
        app.stop()


def report(args, figures: Figures) -> None:
    def row(name: str, value: float, target: str | None = None, unit: str = "ms") -> tuple:
        if target is None:
            return (f"{name} ({unit})", f"{value:.0f}" if unit == "ms" else f"{value:.2f}", "", None)
        limit = TARGETS_MS[target] if unit == "ms" else TARGETS_MS[target] / 1000
        shown = f"{value:.0f}" if unit == "ms" else f"{value:.2f}"
        return (f"{name} ({unit})", shown, f"<= {limit:g}", value <= limit)

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    boosted = "; boosted (autogroup nice -15)" if args.boost else ""
    print(f"{args.app_dir}: {os.cpu_count()} CPU cores, load average {load}; quiet period {args.quiet_ms} ms{boosted}")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print("warning: other processes keep the cores busy; an idle machine's figures would be lower")
    print(
        f"{len(figures.text_ms)} translations, {len(figures.step_ms)} step moves, {len(figures.cold_s)} cold starts; "
        f"{figures.incomplete} translations settled with the heatmap not matching the Spanish pieces"
    )
    text, settled, step = figures.text_ms, figures.settled_ms, figures.step_ms
    print_table(
        [
            row("Enter -> Spanish text p50", statistics.median(text), "text p50"),
            row("Enter -> Spanish text p95", percentile(text, 95)),
            row("Enter -> page settled p50", statistics.median(settled), "settled p50"),
            row("Enter -> page settled p95", percentile(settled, 95), "settled p95"),
            row("first translation after start, settled (worst)", max(figures.first_ms), "first"),
            row("step slider moved -> panel redrawn p50", statistics.median(step), "step p50"),
            row("step slider moved -> panel redrawn p95", percentile(step, 95)),
            row("cold start -> page served (median)", statistics.median(figures.cold_s), "cold", unit="s"),
            row("cold start -> English box in the browser (median)", statistics.median(figures.usable_s), unit="s"),
        ]
    )
    print("last change before settling:", "; ".join(f"{name} x{n}" for name, n in figures.last_changed.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="checkout whose app.py to run (default: this one)")
    parser.add_argument("--model", default=None, help="model folder (default: the app's assets/en-es)")
    parser.add_argument("--translations", type=int, default=20)
    parser.add_argument("--steps", type=int, default=20, help="step slider moves")
    parser.add_argument("--starts", type=int, default=3, help="cold starts (each one's first translation is timed)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed translations and step moves first")
    parser.add_argument("--quiet-ms", type=int, default=500, help="no DOM change for this long = settled")
    parser.add_argument("--slider", default=Selectors.slider, help="CSS selector of the step slider")
    parser.add_argument("--boost", action="store_true", help="on a busy machine: a larger share of the cores (root)")
    args = parser.parse_args()
    selectors = Selectors(slider=args.slider)

    from playwright.sync_api import sync_playwright

    figures = Figures()
    if args.boost:
        boost()  # before the app starts: it inherits this session
    try:
        with sync_playwright() as playwright:
            warm_figures(playwright, args, selectors, figures)
            cold_starts(playwright, args, selectors, figures)
    finally:
        if args.boost:
            boost(0)
    report(args, figures)


if __name__ == "__main__":
    main()
