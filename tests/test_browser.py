"""The page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for Python).

Issue 15's page items, desktop (1280x900) and phone (390x844, is_mobile, has_touch): the step panel shows the
model's own numbers for a chosen step (1); the heatmap outlines that step's row and a click or tap on a row chooses
a step (2); coverage is drawn beside the heatmap (4); on a phone a one-finger swipe over a chart scrolls the page
and zooms nothing, no toolbar covers a label, the panel fits the screen (6). One server for the whole run.

Screenshots go to $SCREENSHOT_DIR (default: pytest's temporary folder); with UPDATE_SCREENSHOT=1 the desktop and
phone views are also saved as assets/screenshot.png and assets/screenshot-phone.png (the README shows both).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sentences import FOUNDING, HOSTILE

from model.plots import FONT_COLOUR

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["web_support"]

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HEATMAP = "#attention-plot"
COVERAGE = "#coverage-plot"
HEATMAP_CELLS = f"{HEATMAP} .js-plotly-plot .hm image"  # plotly draws a heatmap as one image layer
SLIDER = "#step input[type=range]"
WAIT_MS = 60_000  # the machine may be busy training models
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Visit:
    page: sync_api.Page
    dialogs: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def founding_answer(live_app) -> dict:
    """The /translate API answer for the founding sentence, as a notebook user gets it (the page's default search)."""
    from gradio_client import Client

    return Client(live_app.url, verbose=False).predict(FOUNDING, api_name="/translate")[1]


def visit(browser, live_app, query: str = "", phone: bool = False) -> Visit:
    """Open the page (desktop, or a touch phone), recording alert dialogs and any request that leaves the server."""
    if phone:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    else:
        context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    record = Visit(page)
    page.on("dialog", lambda dialog: (record.dialogs.append(dialog.message), dialog.dismiss()))
    local = (live_app.url, "data:", "blob:")
    page.on(
        "request",
        lambda request: None if request.url.startswith(local) else record.outside_requests.append(request.url),
    )
    page.goto(live_app.url + query)
    page.wait_for_selector("#source textarea")
    return record


def translate(page, text: str, press_enter: bool = False) -> None:
    """Type, submit, and wait until the Spanish text, the heatmap and the step panel's first step are all there."""
    page.fill("#source textarea", text)
    if press_enter:
        page.press("#source textarea", "Enter")
    else:
        page.get_by_role("button", name="Translate", exact=True).click()
    page.wait_for_function("document.querySelector('#spanish textarea').value.length > 0")
    page.wait_for_function("document.querySelector('#step-story')?.innerText.includes('Step 1 of')")
    page.wait_for_selector(HEATMAP_CELLS, state="attached")


def outline(page) -> tuple[float, float, bool]:
    """The heatmap's selected-step outline: (y0, y1, visible), in rows."""
    shape = page.locator(f"{HEATMAP} .js-plotly-plot").evaluate("plot => plot.layout.shapes[0]")
    return shape["y0"], shape["y1"], shape.get("visible", True)


def wait_for_step(page, step: int) -> None:
    """Until the panel shows output step ``step`` (1-based) and the heatmap outlines its row."""
    page.wait_for_function(
        """step => document.querySelector('.sp-position')?.textContent.startsWith(`${step} of`)
            && document.querySelector('#attention-plot .js-plotly-plot').layout.shapes[0].y0 === step - 1.5""",
        arg=step,
    )


def row_point(page, row: int) -> tuple[float, float]:
    """Viewport coordinates of a heatmap cell in row ``row`` (0-based), beside its tick label."""
    label = page.locator(f"{HEATMAP} .ytick text").nth(row).bounding_box()
    area = page.locator(f"{HEATMAP} .nsewdrag").first.bounding_box()
    return area["x"] + min(area["width"] / 2, 120), label["y"] + label["height"] / 2


def texts_of(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_text_contents()]


def overlaps(a: dict, b: dict) -> bool:
    horizontal = a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
    return horizontal and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def assert_no_toolbar_over_labels(page, plot: str) -> None:
    """No plotly toolbar anywhere, and Gradio's own label of the chart covers none of its tick labels."""
    assert page.locator(".js-plotly-plot .modebar").count() == 0
    label = page.locator(f"{plot} [data-testid='block-label']")
    ticks = page.locator(f"{plot} .xtick text, {plot} .ytick text")
    boxes = [ticks.nth(i).bounding_box() for i in range(ticks.count())]
    if label.count():
        assert not any(overlaps(label.first.bounding_box(), box) for box in boxes if box)


# --- desktop -------------------------------------------------------------------------------------------------


def test_step_panel_shows_the_models_numbers_for_a_chosen_step(browser, live_app, founding_answer, shots):
    """Issue 15, item 1: fed piece and h, cosine x temperature = scores, softmax, c, tanh(W[h; c]), the top 5 and
    the piece written, then how decoding ended: each number as the /translate API answer has it."""
    visit_ = visit(browser, live_app)
    page = visit_.page
    translate(page, FOUNDING)
    answer = founding_answer
    steps = len(answer["target_tokens"])
    assert page.locator(f"{HEATMAP} .xtick").count() == page.locator("#source-pieces .chip").count()
    page.focus(SLIDER)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_for_step(page, 3)
    detail = answer["step_details"][2]
    assert page.locator(".sp-position").text_content() == f"3 of {steps}: “{answer['target_tokens'][2]}”"
    assert page.locator("#step-story").text_content().startswith(f"Step 3 of {steps}")
    assert texts_of(page, ".sp-card .sp-chip")[0] == detail["fed"]
    sizes = texts_of(page, ".sp-caption .sp-size")
    assert [size.split(" numbers")[0] for size in sizes] == [
        str(len(detail["state"])),
        str(len(detail["context"])),
        str(len(detail["combined"])),
    ]
    assert page.locator("canvas.sp-strip").count() == 3  # h, c and tanh(W[h; c]) drawn as strips
    rows = page.locator(".sp-card .sp-table:not(.sp-top) tr")
    assert rows.count() == 1 + len(answer["source_tokens"])  # a header, then one row per English piece
    for i, piece in enumerate(answer["source_tokens"]):
        row = f".sp-card .sp-table:not(.sp-top) tr:nth-child({i + 2})"
        cells = texts_of(page, f"{row} td.sp-number")
        assert page.locator(f"{row} td.sp-piece").text_content() == piece
        if detail["similarity"] is not None:
            assert shows(cells[0], detail["similarity"][i], 2) and shows(cells[1], detail["scores"][i], 1)
        assert shows(cells[-1], detail["attention"][i], 0 if detail["attention"][i] >= 0.01 else 1, percent=True)
    if answer["temperature"] is not None:
        assert f"T = {answer['temperature']:.1f}" in page.locator(".sp-card .sp-note").nth(1).text_content()
    top = texts_of(page, ".sp-top td.sp-piece")
    assert top == [candidate["token"] for candidate in detail["top"]]
    assert texts_of(page, ".sp-top td.sp-mark")[detail["written_rank"]] == "✓ written"
    page.keyboard.press("End")
    wait_for_step(page, steps)
    ending = page.locator(".sp-end").text_content()
    assert ("wrote </s>" in ending) if answer["stop_reason"] == "eos" else ("length limit" in ending)
    page.keyboard.press("Home")
    wait_for_step(page, 1)
    assert page.locator(".sp-card .sp-line").first.text_content().startswith("fed the start marker")
    assert visit_.outside_requests == [] and visit_.dialogs == []
    page.context.close()


def shows(cell: str, value: float, digits: int, percent: bool = False) -> bool:
    """``cell`` is ``value`` written with ``digits`` decimals (as a percent): JavaScript's toFixed and Python round
    exact halves differently, so half a unit of the last digit either way."""
    number = float(cell.rstrip("%")) / 100 if percent else float(cell)
    unit = 10.0**-digits / (100 if percent else 1)
    return abs(number - value) <= unit / 2 + 1e-9


def test_heatmap_and_step_panel_are_linked(browser, live_app, founding_answer, shots):
    """Issue 15, item 2: the chosen step's row is outlined; clicking a row chooses its step; merged into words,
    the panel says that steps count pieces and outlines the word's row."""
    visit_ = visit(browser, live_app)
    page = visit_.page
    translate(page, FOUNDING)
    assert outline(page) == (-0.5, 0.5, True)
    page.focus(SLIDER)
    page.keyboard.press("ArrowRight")
    wait_for_step(page, 2)
    page.locator(HEATMAP).scroll_into_view_if_needed()
    page.mouse.click(*row_point(page, 6))
    wait_for_step(page, 7)
    assert outline(page) == (5.5, 6.5, True)
    drawn = page.locator(f"{HEATMAP} .shapelayer path").first.bounding_box()  # the outline as it is drawn
    label = page.locator(f"{HEATMAP} .ytick text").nth(6).bounding_box()
    assert abs((drawn["y"] + drawn["height"] / 2) - (label["y"] + label["height"] / 2)) < 4
    assert page.locator(SLIDER).input_value() == "7"
    page.mouse.move(0, 0)  # the pointer leaves the heatmap: no hover label in the picture
    page.wait_for_selector(f"{HEATMAP} .hoverlayer .hovertext", state="detached")
    page.screenshot(path=str(shots / "desktop.png"), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shots / "desktop.png", ROOT / "assets" / "screenshot.png")
    pieces = len(founding_answer["target_tokens"])
    page.get_by_label("Merge pieces into words").check()
    page.wait_for_function("pieces => document.querySelectorAll('#attention-plot .ytick').length < pieces", arg=pieces)
    page.locator(SLIDER).focus()
    page.keyboard.press("End")
    page.wait_for_function("document.querySelector('.sp-unit').textContent.includes('Steps count pieces')")
    rows = page.locator(f"{HEATMAP} .ytick").count()
    assert outline(page)[0] == rows - 1.5  # the last piece sits in the last word's row
    assert visit_.dialogs == []
    page.context.close()


def test_coverage_is_drawn_beside_the_heatmap(browser, live_app, founding_answer):
    """Issue 15, item 4: total attention per English word, flagged words marked, next to the heatmap."""
    visit_ = visit(browser, live_app)
    page = visit_.page
    translate(page, FOUNDING)
    page.wait_for_selector(f"{COVERAGE} .js-plotly-plot .bars")
    coverage = founding_answer["coverage"]
    assert page.locator(f"{COVERAGE} .ytick").count() == len(coverage)  # one bar per English word, </s> included
    flagged = sum(word["flagged"] for word in coverage)
    assert texts_of(page, f"{COVERAGE} .bartext").count("possibly untranslated") == flagged
    heatmap, chart = page.locator(HEATMAP).bounding_box(), page.locator(COVERAGE).bounding_box()
    assert chart["x"] >= heatmap["x"] + heatmap["width"] - 1 and chart["y"] < heatmap["y"] + heatmap["height"]
    assert_no_toolbar_over_labels(page, COVERAGE)
    page.context.close()


# Counts plotly draws per chart (react and newPlot), from the moment plotly.js sets window.Plotly.
COUNT_DRAWS = """
(() => {
  window.__draws = {};
  let plotly;
  Object.defineProperty(window, "Plotly", {configurable: true, get: () => plotly, set(value) {
    plotly = value;
    for (const name of ["react", "newPlot"]) {
      const draw = value[name];
      value[name] = function (element, ...rest) {
        const chart = element.closest && element.closest("[id]") ? element.closest("[id]").id : "?";
        window.__draws[chart] = (window.__draws[chart] || 0) + 1;
        return draw.call(this, element, ...rest);
      };
    }
  }});
})();
"""


def test_each_translation_draws_each_chart_once(browser, live_app, founding_answer):
    """The heatmap and the coverage chart are drawn by the page's script, once per translation (gr.Plot drew each
    new figure twice, into a new element); switching tabs and back keeps them; merging into words redraws the
    heatmap in the browser."""
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(COUNT_DRAWS)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(live_app.url)
    page.wait_for_selector("#source textarea")
    page.wait_for_function("window.Plotly && document.querySelector('#coverage-plot .js-plotly-plot')")
    before = page.evaluate("({...window.__draws})")
    translate(page, FOUNDING)
    page.wait_for_selector(f"{COVERAGE} .js-plotly-plot .bars")
    page.wait_for_timeout(500)
    after = page.evaluate("({...window.__draws})")
    drawn = {chart: after.get(chart, 0) - before.get(chart, 0) for chart in ("attention-plot", "coverage-plot")}
    assert drawn == {"attention-plot": 1, "coverage-plot": 1}
    rows = len(founding_answer["target_tokens"])
    page.get_by_role("tab", name="Why attention?").click()
    page.get_by_role("tab", name="Translate").click()
    page.wait_for_timeout(300)
    assert page.locator(f"{HEATMAP} .ytick").count() == rows
    page.get_by_label("Merge pieces into words").check()
    page.wait_for_function("rows => document.querySelectorAll('#attention-plot .ytick').length < rows", arg=rows)
    page.get_by_label("Merge pieces into words").uncheck()
    page.wait_for_function("rows => document.querySelectorAll('#attention-plot .ytick').length === rows", arg=rows)
    context.close()


def test_a_translation_asked_for_at_once_is_drawn(browser, live_app):
    """Enter pressed as soon as the English box shows, often before plotly.js has loaded: the page's script draws
    the charts once it has."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(live_app.url, wait_until="commit")
    page.wait_for_selector("#source textarea")
    page.fill("#source textarea", "Where is the train station?")
    page.press("#source textarea", "Enter")
    page.wait_for_function("document.querySelector('#spanish textarea').value.length > 0")
    page.wait_for_selector(f"{COVERAGE} .js-plotly-plot .bars")
    page.wait_for_function(
        "document.querySelectorAll('#attention-plot .ytick').length"
        " === document.querySelectorAll('#target-pieces .chip').length"
    )
    context.close()


def test_typed_html_stays_text(browser, live_app, shots):
    visit_ = visit(browser, live_app)
    page = visit_.page
    translate(page, HOSTILE, press_enter=True)
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#source-pieces b, #target-pieces b, #step-panel b, #notice b").count() == 0
    assert page.locator("#source-pieces .chip").last.inner_text() == "</s>"  # escaped, not a closing tag
    assert page.locator("#source textarea").input_value() == HOSTILE
    columns = page.locator("#source-pieces .chip").count()
    page.locator(HEATMAP).scroll_into_view_if_needed()
    area = page.locator(f"{HEATMAP} .nsewdrag").first.bounding_box()
    rows = page.locator(f"{HEATMAP} .ytick").count()
    page.mouse.move(area["x"] + area["width"] * (columns - 0.5) / columns, area["y"] + area["height"] * 0.5 / rows)
    page.wait_for_selector(f"{HEATMAP} .hoverlayer .hovertext")
    assert "source: </s>" in page.locator(f"{HEATMAP} .hoverlayer .hovertext").text_content()
    assert_no_toolbar_over_labels(page, HEATMAP)  # hovering shows no toolbar either
    page.screenshot(path=str(shots / "hostile.png"), full_page=True)
    assert visit_.dialogs == []
    page.context.close()


def test_dark_mode(browser, live_app, shots):
    visit_ = visit(browser, live_app, query="?__theme=dark")
    page = visit_.page
    assert page.evaluate("document.body.classList.contains('dark')")
    translate(page, FOUNDING)
    tick_colour = page.locator(f"{HEATMAP} .xtick text").first.evaluate("e => getComputedStyle(e).fill")
    red, green, blue = (int(FONT_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    assert tick_colour == f"rgb({red}, {green}, {blue})"  # the mid grey that reads on dark and light backgrounds
    page.screenshot(path=str(shots / "dark.png"), full_page=True)
    page.context.close()


def test_why_attention_and_about_tabs(browser, live_app, shots):
    visit_ = visit(browser, live_app)
    page = visit_.page
    page.get_by_role("tab", name="Why attention?").click()
    page.get_by_role("button", name="Translate with both models").click()
    page.wait_for_function(
        "[...document.querySelectorAll('textarea')].filter(t => t.offsetParent && t.disabled && t.value).length >= 2"
    )
    # the compare answer redraws the length chart: wait for the new one rather than racing it
    page.locator(".js-plotly-plot:visible").first.wait_for(state="visible", timeout=WAIT_MS)
    page.screenshot(path=str(shots / "why.png"), full_page=True)
    page.get_by_role("tab", name="About").click()
    page.get_by_text("Tatoeba Project").wait_for()
    page.screenshot(path=str(shots / "about.png"), full_page=True)
    page.context.close()


# --- phone ---------------------------------------------------------------------------------------------------


def touch_swipe(cdp, x: float, y: float, dx: float, dy: float, moves: int = 12) -> None:
    """One finger down at (x, y), moved by (dx, dy) over ~200 ms, lifted: real touch events through the browser's
    input pipeline, so touch-action, plotly's touch handlers and the page's scrolling all take part.

    Not Input.synthesizeScrollGesture: with gestureSourceType "touch" this Chromium (150, headless) delivers only
    touchstart and touchend, no touchmove, so it scrolls not even a plain page.
    """
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for move in range(1, moves + 1):
        point = {"x": x + dx * move / moves, "y": y + dy * move / moves}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        time.sleep(0.016)  # one frame per move, as a finger would
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def plot_ranges(page, plot: str) -> list:
    """The axis ranges plotly is showing: a zoom or pan changes them."""
    return page.locator(f"{plot} .js-plotly-plot").evaluate(
        "plot => [plot._fullLayout.xaxis.range, plot._fullLayout.yaxis.range]"
    )


def swipe_scrolls_the_page(page, cdp, plot: str) -> None:
    """A vertical swipe from the middle of ``plot`` moves the page with the finger and leaves the plot's axes;
    a sideways one leaves the axes too (the heatmap's box may scroll sideways)."""
    page.locator(plot).evaluate("box => box.scrollIntoView({block: 'start'})")
    page.evaluate("scrollBy(0, -40)")
    ranges, scrolled = plot_ranges(page, plot), page.evaluate("scrollY")
    area = page.locator(f"{plot} .nsewdrag").first.bounding_box()
    x = min(area["x"] + area["width"] / 2, PHONE["width"] - 40)
    y = min(area["y"] + area["height"] / 2, PHONE["height"] - 200)
    touch_swipe(cdp, x, y, 0, -250)
    page.wait_for_timeout(400)
    assert page.evaluate("scrollY") - scrolled > 100, plot  # the page moved with the finger
    assert plot_ranges(page, plot) == ranges, plot  # ... and the plot did not zoom or pan
    area = page.locator(f"{plot} .nsewdrag").first.bounding_box()
    touch_swipe(cdp, min(area["x"] + area["width"] / 2, 300), max(area["y"] + 40, 100), -150, 0)
    page.wait_for_timeout(400)
    assert plot_ranges(page, plot) == ranges, plot


def test_phone_swipes_scroll_the_page_and_taps_choose_steps(browser, live_app, shots):
    """Issue 15, items 6 and 2 on a 390x844 touch phone: a one-finger swipe over the heatmap or the coverage chart
    scrolls the page and zooms nothing; no toolbar covers a label; the long example's heatmap leaves room on the
    screen; a tap on a heatmap row chooses its step; the step panel fits the screen."""
    visit_ = visit(browser, live_app, phone=True)
    page = visit_.page
    cdp = page.context.new_cdp_session(page)
    translate(page, FOUNDING)
    page.wait_for_selector(f"{COVERAGE} .js-plotly-plot .bars")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # the page does not overflow
    assert 300 < page.locator(f"{HEATMAP} .js-plotly-plot").bounding_box()["height"] < 0.75 * PHONE["height"]
    for plot in (HEATMAP, COVERAGE):
        swipe_scrolls_the_page(page, cdp, plot)
        assert_no_toolbar_over_labels(page, plot)
    page.locator(HEATMAP).evaluate("box => box.scrollIntoView({block: 'start'})")
    page.locator(HEATMAP).evaluate("box => box.scrollLeft = 0")
    page.touchscreen.tap(*row_point(page, 4))
    wait_for_step(page, 5)
    cards = page.locator(".sp-card")
    for i in range(cards.count()):
        box = cards.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1  # each card fits the screen's width
    font = page.locator("#step-story").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= 12
    page.screenshot(path=str(shots / "phone-full.png"), full_page=True)
    page.locator("#step").evaluate("box => box.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "phone.png"))
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shots / "phone.png", ROOT / "assets" / "screenshot-phone.png")
    assert visit_.outside_requests == [] and visit_.dialogs == []
    page.context.close()
