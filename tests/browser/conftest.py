"""Chromium through Playwright's sync API, against pytest-django's live_server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told the caller knows what it is doing (fixtures run between pages).
# Set only while the browser runs: left in os.environ it leaks into later tests' subprocesses
# (`manage.py check --deploy` rightly fails on it).
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module; Playwright (and its event loop) stops when the module ends, so
    the tests that follow run with Django's async-safety check intact."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def new_page(browser):
    """A fresh browser context (its own cookies) per user; pages are closed after the test."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _clear_content_type_caches():
    from django.contrib.contenttypes.models import ContentType
    from guardian.shortcuts import _get_ct_cached

    ContentType.objects.clear_cache()
    _get_ct_cached.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_content_type_caches():
    """The flush after a live_server test recreates content types under new ids; guardian keeps the
    old ones in an lru_cache, and the next test's permission checks would fail with
    MixedContentTypeError. Clear before (set-up) and after the flush (teardown runs after it)."""
    _clear_content_type_caches()
    yield
    _clear_content_type_caches()


def open_panel(page, key: str):
    """Open an action panel of the account page the way a rep does (it loads when opened; a panel
    this browser opened before opens by itself), and return it once loaded."""
    slot = page.locator(f'.panel-slot[data-panel="{key}"]')
    button = slot.locator("[data-panel-open]")
    if button.count():
        button.click()
    panel = page.locator(f"#panel-{key}")
    panel.locator(".panel-head + *").first.wait_for()
    return panel
