"""The English pages speak English: no Chinese in navigation, headings, labels or buttons.

Names people typed in (users, organisation units) may be Chinese on any page; they are removed
before the check. So is the language switch, which names Chinese in Chinese on purpose.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import CJK, Browsing
from tests.e2e.tour import STOPS, user_data

pytestmark = pytest.mark.browser

# The parts of a page that are the application talking, not the data.
CHROME = ", ".join(
    [
        "aside",
        "header.topbar",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "legend",
        "label",
        "dt",
        "th",
        "button",
        ".btn",
        ".badge",
        ".page-pretitle",
        ".form-hint",
        ".invalid-feedback",
        ".alert",
        ".empty",
        "nav",
        "summary",
        "select option",
    ]
)

READ_CHROME = """(selector) => {
  const texts = [document.title];
  for (const element of document.querySelectorAll(selector)) {
    if (element.closest('[lang="zh-CN"]:not(html), .avatar')) continue;
    const copy = element.cloneNode(true);
    // The avatar is the first character of the person's name: data, not chrome.
    copy.querySelectorAll('[lang="zh-CN"]:not(html), .avatar').forEach((node) => node.remove());
    texts.push(copy.textContent);
  }
  for (const element of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    if (element.closest('[lang="zh-CN"]:not(html), .avatar, td')) continue;
    for (const name of ['placeholder', 'aria-label', 'title']) {
      if (element.hasAttribute(name)) texts.push(element.getAttribute(name));
    }
  }
  return texts;
}"""


def chinese_in_chrome(ui: Browsing, names: list[str]) -> list[str]:
    """Snippets of application text on the page that still contain Chinese characters."""
    found = []
    for text in ui.page.evaluate(READ_CHROME, CHROME):
        for name in names:
            text = text.replace(name, "")
        for match in CJK.finditer(text):
            start = max(0, match.start() - 20)
            found.append(" ".join(text[start : match.end() + 20].split()))
    return sorted(set(found))


def test_english_pages_have_no_chinese_outside_user_data(open_browser: Callable[..., Browsing]) -> None:
    browsers: dict[str | None, Browsing] = {}
    problems: dict[str, list[str]] = {}
    for stop in STOPS:
        if stop.who not in browsers:
            browsers[stop.who] = open_browser("en")
            if stop.who is not None:
                browsers[stop.who].sign_in(stop.who)
        ui = browsers[stop.who]
        stop.visit(ui)
        ui.screenshot(stop.name)
        found = chinese_in_chrome(ui, user_data(ui.server))
        if found:
            problems[stop.name] = found
    assert not problems, f"Chinese text on English pages: {problems}"
