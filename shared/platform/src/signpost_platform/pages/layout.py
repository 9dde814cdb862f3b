"""The NHS.UK page every page is rendered in: header, skip link, main, footer and sign-in panel.

Plain server-rendered HTML with NHS.UK frontend's classes. Scripts are ES modules served by the
service (`/pages/static/...`); no inline script or handler, so the content security policy
allows scripts from the service only. Styles may be inline: LHC-Forms sets element styles.
"""

from collections.abc import Sequence
from html import escape

from fastapi import Request
from starlette.responses import HTMLResponse

from signpost_platform.pages.assets import default_assets_dir, installed
from signpost_platform.settings import ServiceSettings

ASSETS = "/pages/assets"
STATIC = "/pages/static"

_NHS_LOGO = (
    '<svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" '
    'height="40" width="100" focusable="false" role="img" aria-label="NHS"><title>NHS</title>'
    '<path fill="currentcolor" d="M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 '
    "13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 "
    "70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 "
    "12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 "
    "45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119"
    '.5 32h-20l5-24.5Z"/></svg>'
)


def content_security_policy(connect: Sequence[str] = ()) -> str:
    """Scripts, fonts and styles from the service only; API calls to the service and `connect`."""
    sources = " ".join(["'self'", *connect])
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:; font-src 'self'; connect-src {sources}; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _sign_in_panel(settings: ServiceSettings) -> str:
    """How a person signs in here: a development token, a pasted token, or the proxy's."""
    if settings.pages_sign_in == "proxy" and settings.auth_mode != "development":
        return ""
    development = ""
    if settings.auth_mode == "development":
        development = (
            '<p class="nhsuk-body">This service runs in development mode: sign in with a '
            "development token (synthetic data only, never a real service).</p>"
            '<button class="nhsuk-button nhsuk-button--secondary" type="button" '
            'id="dev-sign-in">Sign in with a development token</button>'
        )
    return f"""
<div class="nhsuk-card" id="sign-in" hidden>
  <div class="nhsuk-card__content">
    <h2 class="nhsuk-card__heading nhsuk-heading-m">Sign in</h2>
    {development}
    <form id="token-form" novalidate>
      <div class="nhsuk-form-group">
        <label class="nhsuk-label" for="token">Access token</label>
        <div class="nhsuk-hint" id="token-hint">The access token your organisation's sign-in
          gave you. It is kept in this browser tab only and forgotten when the tab closes.</div>
        <input class="nhsuk-input" id="token" name="token" type="password" autocomplete="off"
          spellcheck="false" aria-describedby="token-hint">
      </div>
      <button class="nhsuk-button" type="submit">Sign in</button>
    </form>
  </div>
</div>
<p class="nhsuk-body-s" id="signed-in" hidden>Signed in.
  <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="button"
    id="sign-out">Sign out</button></p>"""


def _script(script: str | tuple[str, str]) -> str:
    src, kind = (script, "module") if isinstance(script, str) else script
    attribute = {"module": ' type="module"', "defer": " defer", "classic": ""}[kind]
    return f'<script{attribute} src="{escape(src)}"></script>'


def page(
    request: Request,
    *,
    title: str,
    main: str,
    scripts: Sequence[str | tuple[str, str]] = (),
    styles: Sequence[str] = (),
    connect: Sequence[str] = (),
    data: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page in the NHS.UK layout. `main` is trusted HTML (escape what you put in it);
    `styles` and `scripts` are paths under the service (a script is an ES module, or a
    `(path, "classic")` or `(path, "defer")` pair for a classic script); `data` becomes
    data- attributes on <main> for the page's script; `connect` adds origins it may call."""
    settings: ServiceSettings = request.app.state.settings
    folder = settings.pages_assets_dir or default_assets_dir()
    if not installed(folder):
        main = (
            '<div class="nhsuk-error-summary" role="alert"><h2 class="nhsuk-error-summary__title">'
            'This page\'s assets are not installed</h2><div class="nhsuk-error-summary__body">'
            "<p>Run <code>make assets</code> (or <code>make run</code>, which runs it) on the "
            "server, then reload this page.</p></div></div>"
        )
        scripts = ()
    shared_script = f'<script type="module" src="{STATIC}/pages.js"></script>' if scripts else ""
    attributes = {
        "sign-in": "development" if settings.auth_mode == "development" else settings.pages_sign_in,
        **(data or {}),
    }
    data_attributes = " ".join(f'data-{k}="{escape(v)}"' for k, v in attributes.items())
    head = "\n".join(
        [f'<link rel="stylesheet" href="{escape(href)}">' for href in styles]
        + [_script(script) for script in scripts]
    )
    service = escape(request.app.title.removeprefix("Signpost "))
    body = f"""<!doctype html>
<html lang="en" class="nhsuk-template">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - Signpost</title>
<link rel="icon" href="{ASSETS}/nhsuk-frontend/favicon.ico">
<link rel="stylesheet" href="{ASSETS}/nhsuk-frontend/nhsuk-frontend.min.css">
<link rel="stylesheet" href="{STATIC}/pages.css">
{shared_script}
{head}
</head>
<body class="nhsuk-template__body">
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="nhsuk-header" role="banner">
  <div class="nhsuk-header__container nhsuk-width-container">
    <div class="nhsuk-header__service">
      <a class="nhsuk-header__service-logo" href="{escape(str(request.url.path))}"
        aria-label="NHS Signpost homepage">{_NHS_LOGO}
        <span class="nhsuk-header__service-name">Signpost</span></a>
    </div>
  </div>
</header>
<div class="nhsuk-width-container">
  <main class="nhsuk-main-wrapper" id="maincontent" {data_attributes}>
    <h1 class="nhsuk-heading-l">{escape(title)}</h1>
    {_sign_in_panel(settings)}
    {main}
  </main>
</div>
<footer class="nhsuk-footer" role="contentinfo">
  <div class="nhsuk-width-container">
    <p class="nhsuk-body-s">Signpost {service}. Synthetic data only in development.</p>
  </div>
</footer>
</body>
</html>"""
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": content_security_policy(connect),
            "Cache-Control": "no-store",
        },
    )
