"""The survey email as a phone shows it (Chromium at 375 px): the 0–10 scale must be
tappable, i.e. every number a target at least 40 px square, on at most two rows, nothing
cut off; on a wide screen it stays one row."""

from __future__ import annotations

import pytest

from feedback.services import email as email_render
from tests.feedback.factories import ContactFactory, InvitationFactory

pytestmark = pytest.mark.browser


def score_boxes(browser, html: str, width: int) -> tuple[list[dict], int]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_content(html)
    boxes = [link.bounding_box() for link in page.locator("a[href*='/s/']").all()]
    boxes = [b for b in boxes if b is not None]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    return boxes, scroll_width


@pytest.fixture
def nps_email(org):
    contact = ContactFactory(organization=org, name="Ann Lee")
    return email_render.render_invitation(InvitationFactory(organization=org, contact=contact))


def test_on_a_phone_every_score_is_a_40_px_target_on_at_most_two_rows(browser, nps_email):
    boxes, scroll_width = score_boxes(browser, nps_email.html, 375)
    scores = boxes[:11]  # the 0–10 links; the "open in your browser" link comes after
    assert len(scores) == 11
    for box in scores:
        assert box["width"] >= 40, box
        assert box["height"] >= 40, box
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 375, box
    rows = sorted({round(box["y"]) for box in scores})
    assert len(rows) <= 2, rows
    assert scroll_width <= 375  # nothing to scroll sideways


def test_on_a_wide_screen_the_scale_is_one_row(browser, nps_email):
    boxes, _ = score_boxes(browser, nps_email.html, 1024)
    rows = {round(box["y"]) for box in boxes[:11]}
    assert len(rows) == 1
