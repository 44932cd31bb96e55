"""The one rule for every URL a connector is given: no credentials in it, no secret sent in clear.

A user name or password written into a URL would be kept wherever the URL goes (the programme
file and the manifests in the locker, payload sources, error messages, a failed run's error), and
HTTP clients send it as Basic authentication in place of the token. So a URL holding one is
refused, and credentials come only from ``secrets:``. A secret sent over a cleartext scheme
(``http://``, ``ldap://``) can be read on the way, so it is sent in clear only to this machine
(127.0.0.0/8, ::1, ``localhost``): a test server or a local emulator.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

CLEARTEXT = {"http": "https", "ldap": "ldaps"}
"""Schemes that carry a secret unencrypted, and the scheme to use instead."""

LOGIN_NAME_SCHEMES = frozenset({"ssh"})
"""Schemes whose user name is the account to log in as, not a secret (``ssh://git@host/…``);
a password is still refused."""

LOOPBACK = "127.0.0.0/8, ::1, localhost"


def allowed(url: str, *, sends_secret: bool) -> str:
    """``url`` when the rule allows it; else ``ValueError`` with the problem (for validators)."""
    problem = url_problem(url, sends_secret=sends_secret)
    if problem is not None:
        raise ValueError(problem)
    return url


def url_problem(url: str, *, sends_secret: bool) -> str | None:
    """Why ``url`` must not be used, or None; ``sends_secret`` says a secret would go with it.

    The problem never repeats the URL, which may hold the very credential being refused.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if "@" in parts.netloc and (parts.password is not None or scheme not in LOGIN_NAME_SCHEMES):
        return (
            "must not hold a user name or password: it would be kept in the evidence and sent "
            "in place of the secret; name credentials under 'secrets:' as environment variables"
        )
    if sends_secret and scheme in CLEARTEXT and not is_loopback(parts.hostname or ""):
        return (
            f"is {scheme}://, which would send the secret unencrypted; use "
            f"{CLEARTEXT[scheme]}:// ({scheme}:// is allowed only to loopback: {LOOPBACK})"
        )
    return None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine by its address or the name ``localhost`` itself."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public(url: str) -> str:
    """``url`` without any user name or password, fit to be shown or kept as evidence."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
