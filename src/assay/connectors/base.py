"""The seam every connector plugs into.

A connector reads one system, in ``live`` mode (the vendor's API) or ``export`` mode (the
vendor's own raw responses or files saved to disk). It returns the raw payloads exactly as read,
so they can be kept as evidence, and the records parsed from those same bytes.

Each connector declares its settings as a ``Settings`` model next to it: every key it reads,
typed. The programme file is checked against that model when it is loaded, so a misspelt key or
a credential written as a setting is refused with its line before anything is collected.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Protocol, TypeAlias, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictStr,
    ValidationError,
    ValidationInfo,
)

from assay.connectors import _urls
from assay.errors import InputError
from assay.inventory.records import Records

_CREDENTIAL_NAME = re.compile(
    r"token|passw(or)?d|secret|apikey|credential|privatekey|accesskey|passphrase|bearer"
)
"""What a setting's name, lower-cased without separators, holds when it names a credential."""

SettingLoc = tuple[str | int, ...]


def _url(value: str, info: ValidationInfo) -> str:
    context = info.context if isinstance(info.context, Mapping) else {}
    return _urls.allowed(value, sends_secret=bool(context.get("secrets")))


Url = Annotated[StrictStr, AfterValidator(_url)]
"""A URL setting: refused when it holds a user name or password, or when it is cleartext to
another machine while the connector has secrets to send (see ``_urls``)."""


class Settings(BaseModel):
    """A connector's settings: every key it reads, typed; any other key is an error.

    Credentials are never settings: they come from ``secrets:``, by environment variable name.
    Values arrive as the programme file gives them (a YAML list as a tuple); a sequence field is
    declared as a tuple and accepts either.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    SECRETS: ClassVar[tuple[str, ...]] = ()
    """The names the connector reads from ``secrets:``; any other name there is an error."""


S = TypeVar("S", bound=Settings)
SettingsModel: TypeAlias = type[Settings]
"""A connector's declaration of its settings (a name, because ``type`` is a connector's field)."""


def secrets_problem(model: type[Settings], secrets: Collection[str]) -> tuple[str, str] | None:
    """The first secret name ``model``'s connector does not read, and why; None when none."""
    for name in secrets:
        if name not in model.SECRETS:
            takes = ", ".join(model.SECRETS) if model.SECRETS else "none"
            return name, f"unknown secret; this connector's secrets are: {takes}"
    return None


def settings_problem(
    model: type[Settings], values: Mapping[str, Any], secrets: Collection[str]
) -> tuple[SettingLoc, str] | None:
    """The first problem of ``values`` as settings of ``model``: where (a key, or a key and an
    index) and what; None when they are fine. ``secrets`` names the secrets the connector has.

    A name that looks like a credential is refused before anything else, and its value is
    never repeated: it is probably the secret itself.
    """
    for key in values:
        if _CREDENTIAL_NAME.search(re.sub(r"[^a-z]", "", key.lower())):
            return (key,), (
                "looks like a credential; credentials are never settings: put it under "
                "'secrets:' as the name of the environment variable that holds it"
            )
    try:
        model.model_validate(values, context={"secrets": tuple(secrets)})
    except ValidationError as error:
        first = error.errors()[0]
        name, *inner = first["loc"]
        loc: SettingLoc = (str(name), *(part for part in inner if isinstance(part, int)))
        if first["type"] == "extra_forbidden":
            known = ", ".join(sorted(model.model_fields))
            return loc, f"unknown setting; this connector's settings are: {known}"
        cause = first.get("ctx", {}).get("error")
        return loc, str(cause) if isinstance(cause, ValueError) else first["msg"]
    return None


@dataclass(frozen=True)
class RawPayload:
    """One raw response or file, byte for byte as the source gave it."""

    name: str
    """Stable name within the snapshot, e.g. ``users.json`` or ``factors/00u1.json``."""
    source: str
    """Where it came from: an absolute file path, or the URL with its query string."""
    data: bytes


@dataclass(frozen=True)
class ConnectorConfig:
    """What a connector is given: its settings from ``assay.yaml`` and where that file lives."""

    system_id: str
    mode: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, str]
    """Secret values, already resolved from the environment variables ``assay.yaml`` names."""
    base_dir: Path
    """Directory of the programme file; relative export paths are resolved against it."""
    collected_at: datetime | None = None
    """When the payloads were collected, for parsing stored ones: facts that depend on the clock
    (an expired token, an exemption's end) are judged then, not when they are replayed."""

    def moment(self) -> datetime:
        """The moment time-dependent facts are judged at: the collection's, or now."""
        return self.collected_at or datetime.now(UTC)

    def typed(self, model: type[S]) -> S:
        """The settings as the connector declares them; a bad one is an ``InputError`` naming
        it (a programme file's settings were already checked, with their lines, when loaded)."""
        problem = settings_problem(model, self.settings, self.secrets)
        if problem is not None:
            loc, text = problem
            raise InputError(f"system {self.system_id}", f"connector setting {_key(loc)}: {text}")
        return model.model_validate(self.settings, context={"secrets": tuple(self.secrets)})

    def url(self, key: str, value: str, *, sends_secret: bool) -> str:
        """``value``, the URL setting ``key``, once the shared URL rule (``_urls``) allows it."""
        problem = _urls.url_problem(value, sends_secret=sends_secret)
        if problem is not None:
            raise InputError(f"system {self.system_id}", f"connector setting '{key}' {problem}")
        return value

    def path(self, key: str = "path") -> Path:
        """An export path from the settings, resolved against the programme file's directory."""
        value = self.settings.get(key)
        if not isinstance(value, str) or not value:
            raise InputError(f"system {self.system_id}", f"connector setting '{key}' is required")
        candidate = Path(value)
        return candidate if candidate.is_absolute() else self.base_dir / candidate


@dataclass(frozen=True)
class Collected:
    """The outcome of one collection: raw payloads, parsed records and how they were obtained."""

    system_id: str
    connector: str
    connector_version: str
    mode: str
    started_at: datetime
    finished_at: datetime
    payloads: tuple[RawPayload, ...]
    records: Records
    parameters: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True
    """False when the population could not be read in full; dependent checks become 'not tested'."""
    incomplete_reason: str | None = None


def _key(loc: SettingLoc) -> str:
    """``'repositories'``, or ``'repositories[1]'`` for an item of a list."""
    head, *rest = loc
    return f"'{head}{''.join(f'[{part}]' for part in rest)}'"


class Connector(Protocol):
    """A source of evidence. Implementations raise ``InputError`` for malformed input."""

    type: str
    version: str
    settings: SettingsModel
    """The settings it reads, checked when the programme file is loaded."""

    def collect(self, config: ConnectorConfig) -> Collected: ...
