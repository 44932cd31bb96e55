"""The read-only HTTP client live connectors share: paging, retries and rate limits in one place.

Bodies are returned byte for byte, because they are kept as evidence. A failure ends one of two
ways: ``InputError`` when asking again cannot help (bad token, no permission, wrong name, a
redirect that would change the population), or ``PageFailed`` when the service kept failing, so
the connector can keep the pages it has and mark the population incomplete instead of crashing.

Credentials travel only in the request headers: no message, URL or exception made here holds a
header value, a URL holding a user name or password is refused (httpx would send it in place of
the token, and it would be kept with the URL), and a pagination link to another host is refused
so the token is never sent there.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self

import httpx

from assay.connectors import _urls
from assay.errors import AssayError, InputError

MAX_WAIT = 15 * 60.0
"""The longest single wait, in seconds; a service asking for longer is given up on."""

RATE_LIMIT_HEADERS = (
    ("X-RateLimit-Remaining", "X-RateLimit-Reset"),  # GitHub
    ("X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"),  # Okta
)
"""Pairs of (requests left, epoch second the window resets) headers."""

RESET_MARGIN = 1.0
"""Reset times are whole seconds: wait one more so the first request lands in the new window."""

MESSAGE_LIMIT = 200


@dataclass(frozen=True)
class Page:
    """One successful response of a paged list."""

    url: str
    """The URL fetched, with its query string."""
    status: int
    data: bytes


class PageFailed(AssayError):
    """A page still failing after every retry; the ``pages_done`` pages before it were read."""

    def __init__(self, url: str, reason: str, pages_done: int, body: bytes = b"") -> None:
        self.url = url
        self.reason = reason
        self.pages_done = pages_done
        self.body = body
        """The last failed response's body as received; empty when there was none."""
        super().__init__(f"{url}: {reason}")


class ApiClient:
    """GET-only access to one API; ``sleep`` is injectable so tests need not wait."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        max_retries: int = 5,
        timeout: float = 30.0,
        max_wait: float = MAX_WAIT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        problem = _urls.url_problem(base_url, sends_secret=False)
        if problem is not None:  # httpx would send a user and password as Basic authentication
            raise InputError(_urls.public(base_url), problem)
        # Redirects are not followed: GitHub answers a non-member's member list with a redirect
        # to the public members, which would silently shrink the population.
        self._client = httpx.Client(
            base_url=base_url, headers=dict(headers), timeout=timeout, follow_redirects=False
        )
        self._origin = _origin(self._client.base_url)
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._sleep = sleep

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get_pages(self, path: str, params: Mapping[str, str | int] | None = None) -> Iterator[Page]:
        """Every page of a list, first to last, following each response's ``rel="next"`` link."""
        url: str | None = str(self._client.build_request("GET", path, params=params).url)
        pages_done = 0
        while url is not None:
            response = self._get(url, pages_done)
            yield Page(url=url, status=response.status_code, data=response.content)
            pages_done += 1
            url = self._next_url(response)

    def get_one(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        accept: Collection[int] = (),
    ) -> Page:
        """One response, retried as a page is; a status in ``accept`` is returned, not raised —
        unless it is throttling (GitHub throttles with 403), which is waited out as ever.

        For a resource whose error answer is itself a fact (GitHub's 404 "Branch not protected"):
        the caller reads the status and body and decides what they mean.
        """
        url = str(self._client.build_request("GET", path, params=params).url)
        response = self._get(url, 0, accept)
        return Page(url=url, status=response.status_code, data=response.content)

    def _get(self, url: str, pages_done: int, accept: Collection[int] = ()) -> httpx.Response:
        """One successful response, retrying throttling, server errors and lost connections."""
        attempt = 0
        while True:
            body = b""
            try:
                response = self._client.get(url)
            except httpx.TransportError as exc:
                reason = f"connection failed: {str(exc) or type(exc).__name__}"
                delay = _backoff(attempt)
            else:
                retryable = _retryable(response)
                if response.is_success or (response.status_code in accept and not retryable):
                    return response  # an accepted status that is throttling is still waited out
                if not retryable:
                    raise InputError(url, _problem(response))
                body = response.content
                reason = _status(response)
                requested = _requested_wait(response)
                if requested is not None and requested > self._max_wait:
                    raise PageFailed(
                        url,
                        f"{reason}; asked to wait {requested:.0f} s, longer than the "
                        f"{self._max_wait:.0f} s limit",
                        pages_done,
                        body,
                    )
                delay = _backoff(attempt) if requested is None else requested
            if attempt >= self._max_retries:
                raise PageFailed(url, f"{reason} ({attempt + 1} attempts)", pages_done, body)
            self._sleep(delay)
            attempt += 1

    def _next_url(self, response: httpx.Response) -> str | None:
        link = response.links.get("next")
        if link is None:
            return None
        target = response.url.join(link["url"])
        if target.userinfo:
            raise InputError(
                str(response.url), "the next-page link holds a user name or password; not followed"
            )
        if _origin(target) != self._origin:
            raise InputError(
                str(response.url),
                f"the next-page link leads to another host ({target.scheme}://{target.host}); "
                "not followed",
            )
        return str(target)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _backoff(attempt: int) -> float:
    """Exponential, with jitter so clients that failed together do not retry together."""
    return float(2**attempt) + random.uniform(0.0, 1.0)


def _retryable(response: httpx.Response) -> bool:
    """Throttling and server errors; GitHub may throttle with 403 rather than 429."""
    status = response.status_code
    if status == 429 or status >= 500:
        return True
    return status == 403 and (
        "Retry-After" in response.headers
        or any(response.headers.get(remaining) == "0" for remaining, _ in RATE_LIMIT_HEADERS)
    )


def _requested_wait(response: httpx.Response) -> float | None:
    """Seconds the service asked us to wait, from ``Retry-After`` or an exhausted rate limit."""
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None:
        seconds = _retry_after_seconds(retry_after.strip())
        if seconds is not None:
            return seconds
    for remaining, reset in RATE_LIMIT_HEADERS:
        reset_at = response.headers.get(reset)
        if response.headers.get(remaining) == "0" and reset_at is not None:
            try:
                return max(float(reset_at) - time.time(), 0.0) + RESET_MARGIN
            except ValueError:
                continue
    return None


def _retry_after_seconds(value: str) -> float | None:
    """``Retry-After`` as delay-seconds or as an HTTP date; None when it is neither."""
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _status(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()


def _problem(response: httpx.Response) -> str:
    """The status and the vendor's own one-line explanation, when it gave one."""
    message = _vendor_message(response)
    return f"{_status(response)}: {message}" if message else _status(response)


def _vendor_message(response: httpx.Response) -> str | None:
    if response.is_redirect:
        return f"redirected to {response.headers.get('Location', '?')}; not followed"
    try:
        document = response.json()
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    nested = document.get("error")  # Google and Microsoft Graph: {"error": {"message": ...}}
    for source in (document, nested if isinstance(nested, dict) else {}):
        for key in ("message", "errorSummary"):  # GitHub, JumpCloud, Graph, Google; Okta
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip().splitlines()[0][:MESSAGE_LIMIT]
    return None
