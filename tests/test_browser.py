"""The page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for Python).

Screenshots go to $SCREENSHOT_DIR (default: pytest's temporary folder); with UPDATE_SCREENSHOT=1 the desktop
view after translating the founding sentence is also saved as assets/screenshot.png.
"""

from __future__ import annotations

import os
import shutil
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


def test_narrow_phone_screen(browser, live_app, shots):
    visit_ = visit(browser, live_app, width=390, height=844)
    page = visit_.page
    translate(page, FOUNDING)
    page.wait_for_selector(HEATMAP_CELLS, state="attached")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # the page does not overflow
    plot = page.locator("#attention-plot").bounding_box()
    assert plot["x"] >= 0 and plot["x"] + plot["width"] <= 391  # the heatmap box fits; it scrolls inside if needed
    assert page.locator("#attention-plot .js-plotly-plot").bounding_box()["height"] > 300
    page.screenshot(path=str(shots / "phone.png"), full_page=True)
    page.close()


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
