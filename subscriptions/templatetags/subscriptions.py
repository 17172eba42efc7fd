"""``{% load subscriptions %}{% subscribe_box %}`` puts the sign-up box on any page."""

from django import template

from subscriptions.forms import SubscribeForm, box_context

register = template.Library()


@register.inclusion_tag("subscriptions/_box.html", takes_context=True)
def subscribe_box(context: template.Context) -> dict[str, object]:
    return {**box_context(SubscribeForm()), "csrf_token": context.get("csrf_token")}
