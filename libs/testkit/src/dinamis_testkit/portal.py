"""What the web portal makes a browser do against Keycloak: authorization code + PKCE, following
Keycloak's pages, application-initiated actions (linking a THEIA account), and reading what a
person would read on a page. For tests; the real portal is a web app.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
from dinamis_cli.stack.profile import Profile

from dinamis_testkit.browser import browser, form_action


class Portal:
    """What the web portal makes a browser do: authorization code + PKCE, application-initiated actions."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.browser = browser()
        self.redirect = f"{profile.service_url('gateway')}/callback"
        self.verifier = secrets.token_urlsafe(48)

    async def __aenter__(self) -> Portal:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.browser.aclose()

    async def go(self, url: str, form: dict | None = None) -> httpx.Response:
        """GET a page (or submit a form) and follow Keycloak's own redirects, up to a page or the portal."""
        r = await (self.browser.get(url) if form is None else self.browser.post(url, data=form))
        while r.status_code in (302, 303) and r.headers["location"].startswith(self.profile.keycloak_url):
            r = await self.browser.get(r.headers["location"])
        return r

    async def authorize(self, **params: str) -> httpx.Response:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        return await self.go(f"{self.profile.issuer}/protocol/openid-connect/auth?" + urlencode({
            "client_id": "dinamis-portal", "redirect_uri": self.redirect, "response_type": "code", "scope": "openid",
            "state": "st", "code_challenge": challenge, "code_challenge_method": "S256", "ui_locales": "en", **params}))

    def returned(self, r: httpx.Response) -> dict[str, str]:
        """The query string the portal's callback gets (the browser must be back at the portal)."""
        assert r.status_code == 302 and r.headers["location"].startswith(self.redirect), (r.status_code, text(r))
        return {k: v[0] for k, v in parse_qs(urlparse(r.headers["location"]).query).items()}

    async def tokens(self, code: str) -> dict:
        r = await self.browser.post(f"{self.profile.issuer}/protocol/openid-connect/token", data={
            "grant_type": "authorization_code", "client_id": "dinamis-portal", "code": code,
            "redirect_uri": self.redirect, "code_verifier": self.verifier})
        assert r.status_code == 200, r.text
        return r.json()

    async def login(self, username: str, password: str) -> dict:
        page = await self.authorize()
        back = self.returned(await self.go(form_action(page.text), {"username": username, "password": password}))
        return await self.tokens(back["code"])


def feedback(r: httpx.Response) -> str:
    """The message Keycloak shows above its form (an error, a warning)."""
    found = re.search(r'class="[^"]*kc-feedback-text[^"]*">([^<]*)<', r.text)
    return html.unescape(found[1]) if found else ""


def text(r: httpx.Response) -> str:
    """What a person reads on a page (for assertion messages)."""
    return re.sub(r"\s+", " ", re.sub(r"<script[^>]*>.*?</script>|<[^>]+>", " ", r.text, flags=re.S))[-500:]


async def link_theia(portal: Portal, theia_user: str, theia_password: str) -> httpx.Response:
    """The portal's "link my THEIA account" button: Keycloak's application-initiated action
    ``idp_link:theia``, confirmed, then THEIA's own login page."""
    confirm = await portal.authorize(kc_action="idp_link:theia")
    assert 'name="continue"' in confirm.text, text(confirm)
    theia_login = await portal.go(form_action(confirm.text), {"continue": ""})
    assert "/realms/theia-sim/" in form_action(theia_login.text), text(theia_login)
    return await portal.go(form_action(theia_login.text), {"username": theia_user, "password": theia_password})


ACTION_LINK = re.compile(r"https?://\S+/login-actions/action-token\S+")


async def choose_password(portal: Portal, mail_text: str, password: str) -> httpx.Response:
    """Follows the link of Keycloak's "set your password" e-mail: its confirmation page, then the
    update-password form. Returns the last page (it links back to the portal)."""
    confirm = await portal.go(ACTION_LINK.search(mail_text)[0])
    proceed = re.search(r'href="([^"]*action-token[^"]*)"', confirm.text)
    form = await portal.go(html.unescape(proceed[1])) if proceed else confirm
    return await portal.go(form_action(form.text), {"password-new": password, "password-confirm": password})
