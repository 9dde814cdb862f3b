"""Absolute URLs for Location headers and Bundle links."""

from fastapi import Request


def base_url(request: Request) -> str:
    """The public base URL: the configured one, else the one the request came in on."""
    configured = request.app.state.settings.public_base_url
    if configured:
        return str(configured).rstrip("/")
    return str(request.base_url).rstrip("/")
