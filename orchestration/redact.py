"""One redaction function for everything the warehouse writes (logs, alerts, reports, run tags, error lines).

Secrets are the passwords inside DSNs and URLs, the alert webhook URL (its path and query usually carry a token) and
any key from the environment (`C360_PII_KEY`, `C360_PII_KEY_RETIRED`). `redact` masks the configured values exactly
and, as a second line of defence, any `user:password@` in a URL and any `password=` in a libpq DSN, so a secret
quoted inside a driver's error message is masked too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

MASK = "***"
#: Environment variables whose values (or the secret parts of them) never leave the process.
SECRET_VARIABLES = (
    "C360_POSTGRES_DSN",
    "C360_CRM_POSTGRES_URL",
    "C360_ALERT_WEBHOOK_URL",
    "C360_PII_KEY",
    "C360_PII_KEY_RETIRED",
)

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)(?=@)")
_DSN_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE)
_MIN_SECRET_LEN = 4  # shorter values would mask ordinary words


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """The literal strings to mask: whole secret settings and the password / token parts inside them."""
    env = os.environ if env is None else env
    values: list[str] = []
    for name in SECRET_VARIABLES:
        value = (env.get(name) or "").strip()
        if not value:
            continue
        values.append(value)
        if name == "C360_PII_KEY_RETIRED":
            values += value.split()  # each key alone, wherever one is quoted
        values += [m.group("secret").strip("'") for m in _URL_PASSWORD.finditer(value)]
        values += [m.group("secret").strip("'") for m in _DSN_PASSWORD.finditer(value)]
        if name == "C360_ALERT_WEBHOOK_URL":
            parts = urlsplit(value)
            values += [p for p in (parts.path.strip("/"), parts.query, parts.password or "") if p]
            values += [s for s in parts.path.split("/") if len(s) >= 8 and any(c.isdigit() for c in s)]  # tokens
    return sorted({v for v in values if len(v) >= _MIN_SECRET_LEN}, key=len, reverse=True)


def describe_url(url: str) -> str:
    """A URL as logs may show it: scheme and host only (`https://hooks.example.com/***`)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/{MASK}" if parts.scheme else MASK


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every secret masked. `secrets` defaults to the ones configured in the environment."""
    for value in secret_values() if secrets is None else secrets:
        text = text.replace(value, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _DSN_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def redact_data(value: object, secrets: Iterable[str] | None = None) -> object:
    """`redact` applied to every string inside a JSON-like value (dicts, lists, strings)."""
    secrets = secret_values() if secrets is None else list(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {k: redact_data(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v, secrets) for v in value]
    return value
