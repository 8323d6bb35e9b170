"""The page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for Python).

Screenshots go to $SCREENSHOT_DIR (default: pytest's temporary folder); with UPDATE_SCREENSHOT=1 the desktop
view after translating the founding sentence is also saved as assets/screenshot.png.
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
HEATMAP_CELLS = "#attention-plot .js-plotly-plot .hm image"  # plotly draws a heatmap as one image layer
WAIT_MS = 60_000  # the machine may be busy training models
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


def visit(browser, live_app, width: int = 1280, height: int = 900, query: str = "") -> Visit:
    """Open the page, recording alert dialogs and any request that leaves the app's own server."""
    page = browser.new_page(viewport={"width": width, "height": height})
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
    """Type, submit, and wait until the Spanish text, the heatmap and the first step are all on screen."""
    page.fill("#source textarea", text)
    if press_enter:
        page.press("#source textarea", "Enter")
    else:
        page.get_by_role("button", name="Translate", exact=True).click()
    page.wait_for_function("document.querySelector('#spanish textarea').value.length > 0")
    page.wait_for_function("document.querySelector('#step-story')?.innerText.includes('Step 1 of')")


def test_translate_heatmap_and_step_slider(browser, live_app, shots):
    visit_ = visit(browser, live_app)
    page = visit_.page
    translate(page, FOUNDING)
    page.wait_for_selector(HEATMAP_CELLS, state="attached")
    pieces = page.locator("#source-pieces .chip").count()
    assert page.locator("#attention-plot .xtick").count() == pieces  # one column per source piece
    box = page.locator("#attention-plot .js-plotly-plot").bounding_box()
    assert box["height"] > 300 and box["width"] > 600
    slider = page.locator("#step input[type=range]")
    slider.focus()
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    page.wait_for_function("document.querySelector('#step-story').innerText.includes('Step 3 of')")
    page.wait_for_timeout(500)  # let plotly finish its transitions before the picture
    page.screenshot(path=str(shots / "desktop.png"), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shots / "desktop.png", ROOT / "assets" / "screenshot.png")
    assert visit_.outside_requests == [] and visit_.dialogs == []
    page.close()


def test_typed_html_stays_text(browser, live_app, shots):
    visit_ = visit(browser, live_app)
    page = visit_.page
    translate(page, HOSTILE, press_enter=True)
    page.wait_for_selector(HEATMAP_CELLS, state="attached")
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#source-pieces b, #target-pieces b, #step-story b, #notice b").count() == 0
    assert page.locator("#source-pieces .chip").last.inner_text() == "</s>"  # escaped, not a closing tag
    assert page.locator("#source textarea").input_value() == HOSTILE
    columns = page.locator("#source-pieces .chip").count()
    hover_last_column(page, columns)
    page.wait_for_selector("#attention-plot .hoverlayer .hovertext")
    assert "source: </s>" in page.locator("#attention-plot .hoverlayer .hovertext").text_content()
    page.screenshot(path=str(shots / "hostile.png"), full_page=True)
    assert visit_.dialogs == []
    page.close()


def hover_last_column(page, columns: int) -> None:
    """Move the mouse over the heatmap cell in the first row, last column."""
    area = page.locator("#attention-plot .nsewdrag").first.bounding_box()
    rows = page.locator("#attention-plot .ytick").count()
    page.mouse.move(area["x"] + area["width"] * (columns - 0.5) / columns, area["y"] + area["height"] * 0.5 / rows)


def phone_page(browser, live_app):
    """A 390x844 touch phone (is_mobile, has_touch) on the page, and a CDP session to touch it with."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(live_app.url)
    page.wait_for_selector("#source textarea")
    return page, context.new_cdp_session(page)


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


def plot_ranges(page, selector: str) -> list:
    """The axis ranges plotly is showing: a zoom or pan changes them."""
    return page.locator(f"{selector} .js-plotly-plot").evaluate(
        "plot => [plot._fullLayout.xaxis.range, plot._fullLayout.yaxis.range]"
    )


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and (b["y"] < a["y"] + a["height"])
    )


def test_phone_swipe_over_the_heatmap_scrolls_the_page(browser, live_app, shots):
    """Issue 15, item 6: at 390x844 with touch, a one-finger swipe over the heatmap scrolls the page (vertical) or
    the heatmap's box (sideways) and never zooms the plot; no toolbar covers a label; the long example's heatmap
    leaves room on the screen."""
    page, cdp = phone_page(browser, live_app)
    translate(page, FOUNDING)
    page.wait_for_selector(HEATMAP_CELLS, state="attached")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # the page does not overflow
    plot = page.locator("#attention-plot .js-plotly-plot")
    assert 300 < plot.bounding_box()["height"] < 0.75 * PHONE["height"]
    page.locator("#attention-plot").evaluate("box => box.scrollIntoView({block: 'start'})")
    ranges, scrolled = plot_ranges(page, "#attention-plot"), page.evaluate("scrollY")
    area = page.locator("#attention-plot .nsewdrag").first.bounding_box()
    x, y = min(area["x"] + area["width"] / 2, 300), area["y"] + min(area["height"] / 2, 300)
    touch_swipe(cdp, x, y, 0, -250)
    page.wait_for_timeout(400)
    assert page.evaluate("scrollY") - scrolled > 100  # the page moved with the finger
    assert plot_ranges(page, "#attention-plot") == ranges  # ... and the plot did not zoom
    touch_swipe(cdp, x, y - 150, -150, 0)  # sideways: the heatmap's box may scroll, the plot must not zoom
    page.wait_for_timeout(400)
    assert plot_ranges(page, "#attention-plot") == ranges
    assert page.locator(".js-plotly-plot .modebar").count() == 0  # no plotly toolbar over any chart
    ticks = page.locator("#attention-plot .xtick text, #attention-plot .ytick text")
    label = page.locator("#attention-plot [data-testid='block-label']")
    if label.count():
        label_box = label.first.bounding_box()
        assert not any(overlaps(label_box, ticks.nth(i).bounding_box()) for i in range(ticks.count()))
    page.evaluate("scrollTo(0, 0)")
    page.screenshot(path=str(shots / "phone.png"), full_page=True)
    page.context.close()


def test_dark_mode(browser, live_app, shots):
    visit_ = visit(browser, live_app, query="?__theme=dark")
    page = visit_.page
    assert page.evaluate("document.body.classList.contains('dark')")
    translate(page, FOUNDING)
    page.wait_for_selector(HEATMAP_CELLS, state="attached")
    tick_colour = page.locator("#attention-plot .xtick text").first.evaluate("e => getComputedStyle(e).fill")
    red, green, blue = (int(FONT_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    assert tick_colour == f"rgb({red}, {green}, {blue})"  # the mid grey that reads on dark and light backgrounds
    page.screenshot(path=str(shots / "dark.png"), full_page=True)
    page.close()


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
    page.close()
