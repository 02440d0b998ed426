"""The built book in a real browser (headless Chromium), served from a subpath as on GitHub Pages."""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SUBPATH = "/show-me-reproduced/"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "_build" / "site-check"


@pytest.fixture(scope="module")
def site_url(built_site, tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make test` installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium)")
    root = tmp_path_factory.mktemp("serve")
    shutil.copytree(built_site, root / SUBPATH.strip("/"))
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{SUBPATH}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
            ],
        )
        yield browser
        browser.close()


def test_every_page_loads_with_its_figures_and_no_broken_internal_link(site_url, browser):
    page = browser.new_page()
    to_visit, seen, broken, pages = [urljoin(site_url, "book/intro.html")], set(), [], 0
    while to_visit:
        url = to_visit.pop()
        if url in seen:
            continue
        seen.add(url)
        if not urlparse(url).path.endswith(".html"):  # downloads (.ipynb, .md sources): fetch only
            status = page.request.get(url).status
            if status != 200:
                broken.append((url, status))
            continue
        response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            broken.append((url, response and response.status))
            continue
        pages += 1
        images = page.evaluate(
            "[...document.images].map(i => [i.currentSrc, i.complete && i.naturalWidth > 0])"
        )
        assert all(ok for _, ok in images), (
            f"{url}: images not loaded: {[s for s, ok in images if not ok]}"
        )
        for href in page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"):
            target = urldefrag(href).url
            if urlparse(target).netloc == urlparse(site_url).netloc and target.startswith(site_url):
                to_visit.append(target)
            elif urlparse(target).netloc == urlparse(site_url).netloc:
                broken.append((url, f"link leaves the subpath: {href}"))
    assert not broken, broken
    assert pages >= 12  # intro, method, six notebooks, claims, instructors, limitations, references


def test_notebook_pages_show_their_figures(site_url, browser):
    page = browser.new_page()
    page.goto(urljoin(site_url, "notebooks/01_data_generation.html"), wait_until="load")
    sizes = page.evaluate(
        "[...document.querySelectorAll('.cell_output img')].map(i => i.naturalWidth * i.naturalHeight)"
    )
    assert len(sizes) >= 3 and all(s > 10_000 for s in sizes)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.screenshot(path=str(SCREENSHOTS / "01_data_generation.png"), full_page=False)
    page.goto(urljoin(site_url, "book/intro.html"), wait_until="load")
    page.screenshot(path=str(SCREENSHOTS / "intro.png"), full_page=False)


def test_claims_page_lists_every_checked_claim(site_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(urljoin(site_url, "book/claims.html"), wait_until="load")
    rows = page.evaluate(
        "[...document.querySelectorAll('.cell_output table tbody tr')].map(r => r.innerText)"
    )
    claims = {row.split()[0] for row in rows}
    assert {f"C{i}" for i in range(1, 7)} <= claims, rows
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "claims.png"), full_page=True)


@pytest.mark.parametrize(
    "chapter", ["02_fine_tuning", "03_data_efficiency", "04_length_generalization"]
)
def test_experiment_chapters_show_figures_and_glued_numbers(site_url, browser, chapter):
    page = browser.new_page()
    page.goto(urljoin(site_url, f"notebooks/{chapter}.html"), wait_until="load")
    sizes = page.evaluate(
        "[...document.querySelectorAll('.cell_output img')].map(i => i.naturalWidth * i.naturalHeight)"
    )
    assert sizes and all(s > 10_000 for s in sizes)
    text = page.inner_text("main")
    assert "holds" in text or "does not hold" in text or "not measured" in text


@pytest.mark.parametrize(
    "chapter",
    [
        "notebooks/01_data_generation",
        "notebooks/02_fine_tuning",
        "notebooks/03_data_efficiency",
        "notebooks/04_length_generalization",
        "notebooks/05_prompt_loss_ablation",
        "book/claims",
        "notebooks/06_own_data",
    ],
)
def test_every_figure_is_numbered_and_captioned_and_referred_to(site_url, browser, chapter):
    page = browser.new_page()
    page.goto(urljoin(site_url, f"{chapter}.html"), wait_until="load")
    figures = page.evaluate(
        """[...document.querySelectorAll('.cell_output img')].map(img => {
            const fig = img.closest('figure');
            const cap = fig && fig.querySelector('figcaption');
            return [cap ? cap.innerText : '', fig ? fig.id : ''];
        })"""
    )
    assert figures, f"{chapter}: no figure"
    for caption, anchor in figures:
        assert caption.startswith("Fig.") and len(caption) > 40, (chapter, caption)
        assert anchor, (chapter, caption)
    refs = page.evaluate(
        "[...document.querySelectorAll('a.reference.internal')].map(a => a.getAttribute('href'))"
    )
    for _, anchor in figures:  # the text points at every figure by its number
        assert any(href.endswith(f"#{anchor}") for href in refs), (chapter, anchor, refs)
    assert "??" not in page.inner_text("main")
