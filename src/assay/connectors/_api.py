"""What the connectors that read a vendor's API share: the two modes told apart in one place, a
wait between retries that tests can replace, and the ``base_url`` and ``token`` settings read
alike, so every such connector refuses a bad setting with the same words."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from pydantic import StrictStr

from assay.connectors import _export
from assay.connectors.base import Collected, ConnectorConfig, Settings, SettingsModel, Url
from assay.errors import InputError


class ApiSettings(Settings):
    """What every API connector takes: the export directory, or the API's root for live mode."""

    SECRETS = ("token",)

    path: StrictStr | None = None
    base_url: Url | None = None


class ApiConnector(ABC):
    """Live mode calls the vendor's API; export mode reads the same responses saved to disk."""

    type: str
    version: str
    settings: SettingsModel = ApiSettings

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        """How to wait between retries and polls; tests record the delays instead of waiting."""

    def collect(self, config: ConnectorConfig) -> Collected:
        if config.mode == _export.LIVE_MODE:
            return self._collect_live(config)
        if config.mode == _export.EXPORT_MODE:
            return self._collect_export(config)
        raise _export.unsupported_mode(config, self.type, _export.MODES)

    @abstractmethod
    def _collect_live(self, config: ConnectorConfig) -> Collected: ...

    @abstractmethod
    def _collect_export(self, config: ConnectorConfig) -> Collected: ...


def base_url(config: ConnectorConfig, default: str) -> str:
    """The API's root: the ``base_url`` setting (a tenant's own host, a test server) or
    ``default``, without a trailing slash."""
    value = config.settings.get("base_url", default)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise InputError(
            f"system {config.system_id}",
            "connector setting 'base_url' must be an http(s) URL, e.g. " + default,
        )
    return config.url("base_url", value, sends_secret=True).rstrip("/")


def token(config: ConnectorConfig, connector_type: str, what: str) -> str:
    """The secret ``token``, refused before any request when it is missing; ``what`` says what
    kind of token the connector needs."""
    value = config.secrets.get("token")
    if not value:
        raise InputError(
            f"system {config.system_id}",
            f"connector '{connector_type}' in mode '{_export.LIVE_MODE}' needs the secret "
            f"'token' ({what})",
        )
    return value
