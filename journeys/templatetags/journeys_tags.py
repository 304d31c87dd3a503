"""Icons and colours of the journey map: one mapping, used by every journey template."""

from __future__ import annotations

from django import template

from journeys.models import PHASE_HINTS, Channel, Component

register = template.Library()

CHANNEL_ICONS = {
    Channel.WEB: "globe",
    Channel.EMAIL: "envelope",
    Channel.PHONE: "telephone",
    Channel.CHAT: "chat-dots",
    Channel.STORE: "shop",
    Channel.SOCIAL: "share",
    Channel.APP: "phone",
    Channel.SMS: "chat-left-text",
    Channel.IN_PERSON: "person-badge",
}

COMPONENT_ICONS = {
    Component.SERVICE: "person-heart",
    Component.TECHNOLOGY: "cpu",
    Component.DESIGN: "palette",
}

# Short labels for the cards; the long ones ("Service (people)") are in the forms.
COMPONENT_SHORT = {
    Component.SERVICE: "Service",
    Component.TECHNOLOGY: "Technology",
    Component.DESIGN: "Design",
}


@register.filter
def channel_icon(channel: str) -> str:
    return CHANNEL_ICONS.get(channel, "circle")


@register.filter
def component_icon(component: str) -> str:
    return COMPONENT_ICONS.get(component, "circle")


@register.filter
def component_short(component: str) -> str:
    return COMPONENT_SHORT.get(component, component)


@register.filter
def phase_hint(phase: str) -> str:
    return PHASE_HINTS.get(phase, "")


HAPPY = {"promoter", "satisfied", "low_effort", "positive"}
UNHAPPY = {"detractor", "dissatisfied", "high_effort", "negative"}


@register.filter
def category_tone(category: str) -> str:
    """good / fair / poor for a response's category (see feedback.scoring)."""
    if category in HAPPY:
        return "good"
    return "poor" if category in UNHAPPY else "fair"
