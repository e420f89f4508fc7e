"""AWS credentials: a secret-safe value object and the resolution chain that finds one.

:func:`resolve_aws_credentials` looks, in order, at

1. the explicit ``key`` / ``secret`` / ``token`` arguments;
2. the environment variables ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``
   (skipped when ``profile=`` is passed explicitly: a named profile is a request for *that* profile,
   as with ``aws --profile``; ``AWS_PROFILE`` alone does not skip them);
3. the shared credentials file (``AWS_SHARED_CREDENTIALS_FILE`` or ``~/.aws/credentials``), section
   ``[NAME]``;
4. the config file (``AWS_CONFIG_FILE`` or ``~/.aws/config``), section ``[profile NAME]``
   (``[default]`` for the default profile),

where ``NAME`` is ``profile=``, else ``AWS_PROFILE``, else ``default``. Only static keys are read:
assume-role, SSO, ``credential_process`` and instance-metadata credentials are out of scope here.

The files are parsed with the standard library's :mod:`configparser` (interpolation off, since secrets
may contain ``%``). Reading them is a tiny, one-time, synchronous read done while a driver is being
constructed, never on the event loop's hot path.

Secrets never appear in ``repr``, ``str``, exception messages or pickles: :class:`AwsCredentials`
refuses to be pickled (a credentials object without its secret would be a silent trap, so it is an
explicit error instead), and every error message names *where* the resolver looked, never *what* it found.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["AwsCredentials", "resolve_aws_credentials", "resolve_aws_region"]

ENV_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
ENV_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
ENV_SESSION_TOKEN = "AWS_SESSION_TOKEN"
ENV_PROFILE = "AWS_PROFILE"
ENV_CREDENTIALS_FILE = "AWS_SHARED_CREDENTIALS_FILE"
ENV_CONFIG_FILE = "AWS_CONFIG_FILE"
ENV_REGION = "AWS_REGION"
ENV_DEFAULT_REGION = "AWS_DEFAULT_REGION"

_KEY_ID_PREVIEW = 4
# configparser merges its "default section" into every other section; AWS files have no such concept
# (their "[default]" is an ordinary profile), so point it at a name no real file uses.
_NO_DEFAULT_SECTION = "\x00asynccloud-no-default-section"


@dataclass(frozen=True, repr=False)
class AwsCredentials:
    """A static AWS access key, optionally with a session token (temporary credentials).

    ``repr`` and ``str`` show only the first characters of the key id; the secret and the token are
    never shown. Pickling raises :class:`TypeError` (and so does anything built on pickling, such as
    ``multiprocessing`` arguments): pass credentials to another process through its environment or
    resolve them there. ``copy.copy`` and ``copy.deepcopy`` return the same (immutable) object.

    Args:
        access_key_id: The access key id (``AKIA...`` / ``ASIA...``).
        secret_access_key: The secret access key.
        session_token: The session token of temporary credentials, if any.

    Raises:
        ConfigurationError: If the key id or the secret is empty or not a string.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.access_key_id, str) or not self.access_key_id:
            raise ConfigurationError("AwsCredentials: access_key_id must be a non-empty string")
        if not isinstance(self.secret_access_key, str) or not self.secret_access_key:
            raise ConfigurationError("AwsCredentials: secret_access_key must be a non-empty string")
        if self.session_token is not None and (
            not isinstance(self.session_token, str) or not self.session_token
        ):
            raise ConfigurationError("AwsCredentials: session_token must be a non-empty string or None")

    def __repr__(self) -> str:
        token = ", session_token=***" if self.session_token else ""
        return f"AwsCredentials(access_key_id={_preview(self.access_key_id)!r}, secret=***{token})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "AwsCredentials cannot be pickled: pickles would carry the secret key; "
            "resolve credentials in the receiving process instead"
        )

    def __copy__(self) -> AwsCredentials:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> AwsCredentials:
        return self


def _preview(access_key_id: str) -> str:
    return access_key_id[:_KEY_ID_PREVIEW] + "…"


def resolve_aws_credentials(
    key: str | None = None,
    secret: str | None = None,
    token: str | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> AwsCredentials:
    """Find AWS credentials: explicit arguments, then environment variables, then the shared files.

    Args:
        key: An explicit access key id.
        secret: An explicit secret access key.
        token: An explicit session token (only together with ``key`` and ``secret``).
        profile: The profile to read from the shared files; passing it also skips the environment
            variable credentials. Defaults to ``AWS_PROFILE``, then ``default``.
        environ: The environment to read (defaults to :data:`os.environ`).
        home: The home directory that ``~`` stands for (defaults to :meth:`pathlib.Path.home`).

    Returns:
        The first complete set of credentials found.

    Raises:
        ConfigurationError: If no source has credentials (the message lists every place looked at),
            if a source has only part of them (the message says which part is missing), if a named
            profile exists nowhere, or if a file cannot be read or parsed.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ

    if key is not None or secret is not None or token is not None:
        return _from_explicit(key, secret, token)
    looked = ["explicit arguments (none given)"]

    if profile is None:
        found = _from_environment(env)
        if found is not None:
            return found
        looked.append(f"environment variables {ENV_ACCESS_KEY_ID} / {ENV_SECRET_ACCESS_KEY} (not set)")
    else:
        looked.append("environment variables (skipped: a profile was named explicitly)")

    name = _profile_name(profile, env)
    explicit_profile = profile is not None or bool(env.get(ENV_PROFILE))
    profile_seen = False
    for path, section, kind in _profile_sources(name, env, home):
        values, status = _read_section(path, section)
        if values is None:
            looked.append(f"{kind} {path} ({status})")
            continue
        profile_seen = True
        found = _from_section(values, path, name)
        if found is not None:
            return found
        looked.append(f"{kind} {path} (section [{section}] has no aws_access_key_id)")

    if explicit_profile and not profile_seen:
        raise ConfigurationError(f"AWS profile {name!r} was not found. Looked in: " + "; ".join(looked) + ".")
    raise ConfigurationError(
        f"No AWS credentials found (profile {name!r}). Looked in: "
        + "; ".join(looked)
        + ". Pass key and secret, set the environment variables, or add the profile to a shared file."
    )


def resolve_aws_region(
    region: str | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> str | None:
    """Find the AWS region: explicit argument, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the config file.

    Any non-empty string is accepted (no allow-list: new regions and compatible clouds just work).

    Args:
        region: An explicit region.
        profile: The config-file profile (defaults to ``AWS_PROFILE``, then ``default``).
        environ: The environment to read (defaults to :data:`os.environ`).
        home: The home directory that ``~`` stands for (defaults to :meth:`pathlib.Path.home`).

    Returns:
        The region, or ``None`` when no source names one.

    Raises:
        ConfigurationError: If the config file exists but cannot be read or parsed.
    """
    if region:
        return region
    env: Mapping[str, str] = os.environ if environ is None else environ
    for variable in (ENV_REGION, ENV_DEFAULT_REGION):
        value = env.get(variable, "").strip()
        if value:
            return value
    name = _profile_name(profile, env)
    config = _file_path(env, ENV_CONFIG_FILE, ".aws/config", home)
    values, _ = _read_section(config, _config_section(name))
    if values is not None:
        value = values.get("region", "").strip()
        if value:
            return value
    return None


def _from_explicit(key: str | None, secret: str | None, token: str | None) -> AwsCredentials:
    if not key and not secret:
        given = "a session token was given" if token else "empty key and secret were given"
        raise ConfigurationError(f"{given} explicitly without an access key id (key) and secret (secret)")
    if not key:
        raise ConfigurationError("a secret was given explicitly without an access key id (key)")
    if not secret:
        raise ConfigurationError("an access key id was given explicitly without its secret (secret)")
    return AwsCredentials(key, secret, token or None)


def _from_environment(env: Mapping[str, str]) -> AwsCredentials | None:
    key = env.get(ENV_ACCESS_KEY_ID, "").strip()
    secret = env.get(ENV_SECRET_ACCESS_KEY, "").strip()
    token = env.get(ENV_SESSION_TOKEN, "").strip()
    if key and secret:
        return AwsCredentials(key, secret, token or None)
    if key:
        raise ConfigurationError(f"{ENV_ACCESS_KEY_ID} is set but {ENV_SECRET_ACCESS_KEY} is not")
    if secret:
        raise ConfigurationError(f"{ENV_SECRET_ACCESS_KEY} is set but {ENV_ACCESS_KEY_ID} is not")
    return None


def _from_section(values: Mapping[str, str], path: Path, profile: str) -> AwsCredentials | None:
    key = values.get("aws_access_key_id", "").strip()
    secret = values.get("aws_secret_access_key", "").strip()
    token = (values.get("aws_session_token") or values.get("aws_security_token") or "").strip()
    if key and secret:
        return AwsCredentials(key, secret, token or None)
    if key:
        raise ConfigurationError(
            f"profile {profile!r} in {path} sets aws_access_key_id but not aws_secret_access_key"
        )
    if secret:
        raise ConfigurationError(
            f"profile {profile!r} in {path} sets aws_secret_access_key but not aws_access_key_id"
        )
    return None


def _profile_name(profile: str | None, env: Mapping[str, str]) -> str:
    if profile is not None:
        if not profile.strip():
            raise ConfigurationError("profile must be a non-empty string")
        return profile.strip()
    return env.get(ENV_PROFILE, "").strip() or "default"


def _config_section(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def _profile_sources(profile: str, env: Mapping[str, str], home: Path | None) -> list[tuple[Path, str, str]]:
    credentials = _file_path(env, ENV_CREDENTIALS_FILE, ".aws/credentials", home)
    config = _file_path(env, ENV_CONFIG_FILE, ".aws/config", home)
    return [
        (credentials, profile, "shared credentials file"),
        (config, _config_section(profile), "config file"),
    ]


def _file_path(env: Mapping[str, str], variable: str, default: str, home: Path | None) -> Path:
    base = home if home is not None else Path.home()
    raw = env.get(variable, "").strip()
    if not raw:
        return base / default
    # Expand "~" against the given home rather than $HOME, so an injected home is honoured.
    if raw == "~":
        return base
    if raw.startswith(("~/", "~\\")):
        return base / raw[2:]
    return Path(raw)


def _read_section(path: Path, section: str) -> tuple[dict[str, str] | None, str]:
    """Return the section's options, or ``None`` and why there are none."""
    failure = None
    text = ""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "not found"
    except IsADirectoryError:
        return None, "is a directory"
    except (OSError, UnicodeDecodeError) as exc:
        failure = f"cannot read {path}: {type(exc).__name__}"
    if failure is not None:
        raise ConfigurationError(failure)
    parser = configparser.ConfigParser(interpolation=None, strict=False, default_section=_NO_DEFAULT_SECTION)
    problem = None
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        # configparser's messages quote the offending line, which may hold a secret: keep only where.
        line = getattr(exc, "lineno", None)
        if line is None and isinstance(exc, configparser.ParsingError) and exc.errors:
            line = exc.errors[0][0]
        where = f" at line {line}" if line is not None else ""
        problem = f"cannot parse {path}{where}: {type(exc).__name__}"
    if problem is not None:
        # Raised outside the except block so no __context__ carries the quoted line along.
        raise ConfigurationError(problem)
    if not parser.has_section(section):
        return None, f"no section [{section}]"
    return dict(parser.items(section)), "found"
