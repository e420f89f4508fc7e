"""Resolving AWS credentials and region: every source, their precedence, and errors that say where."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from asynccloud.auth.aws_credentials import AwsCredentials, resolve_aws_credentials, resolve_aws_region
from asynccloud.errors import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "sEcReT/with%percent+KEY"
FILE_SECRET = "file-SECRET-value"
CONFIG_SECRET = "config-SECRET-value"


def _write(home: Path, relative: str, text: str) -> Path:
    path = home / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _credentials_file(home: Path, text: str) -> Path:
    return _write(home, ".aws/credentials", text)


def _config_file(home: Path, text: str) -> Path:
    return _write(home, ".aws/config", text)


def _assert_no_secret(text: str) -> None:
    for secret in (SECRET, FILE_SECRET, CONFIG_SECRET):
        assert secret not in text


# --- explicit arguments ----------------------------------------------------------------------------


def test_explicit_arguments_win_over_everything(tmp_path: Path) -> None:
    _credentials_file(
        tmp_path, f"[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = {FILE_SECRET}\n"
    )
    environ = {"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "env-secret"}
    found = resolve_aws_credentials("AKIDEXPLICIT", SECRET, "tok", environ=environ, home=tmp_path)
    assert found == AwsCredentials("AKIDEXPLICIT", SECRET, "tok")


@pytest.mark.parametrize(
    ("key", "secret", "token", "missing"),
    [
        ("AKID", None, None, "without its secret"),
        (None, SECRET, None, "without an access key id"),
        (None, None, "tok", "session token was given"),
        ("", "", None, "without an access key id"),
    ],
)
def test_partial_explicit_arguments_say_what_is_missing(
    tmp_path: Path, key: str | None, secret: str | None, token: str | None, missing: str
) -> None:
    with pytest.raises(ConfigurationError, match=missing) as caught:
        resolve_aws_credentials(key, secret, token, environ={}, home=tmp_path)
    _assert_no_secret(str(caught.value))


# --- environment -----------------------------------------------------------------------------------


def test_environment_variables(tmp_path: Path) -> None:
    environ = {"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": "envtok"}
    assert resolve_aws_credentials(environ=environ, home=tmp_path) == AwsCredentials(
        "ENVKEY", SECRET, "envtok"
    )


def test_empty_session_token_means_none(tmp_path: Path) -> None:
    environ = {"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": ""}
    assert resolve_aws_credentials(environ=environ, home=tmp_path).session_token is None


def test_environment_wins_over_files_even_with_aws_profile(tmp_path: Path) -> None:
    _credentials_file(
        tmp_path, f"[dev]\naws_access_key_id = FILEKEY\naws_secret_access_key = {FILE_SECRET}\n"
    )
    environ = {"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_PROFILE": "dev"}
    assert resolve_aws_credentials(environ=environ, home=tmp_path).access_key_id == "ENVKEY"


def test_an_explicit_profile_skips_the_environment(tmp_path: Path) -> None:
    _credentials_file(
        tmp_path, f"[dev]\naws_access_key_id = FILEKEY\naws_secret_access_key = {FILE_SECRET}\n"
    )
    environ = {"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": SECRET}
    found = resolve_aws_credentials(profile="dev", environ=environ, home=tmp_path)
    assert found == AwsCredentials("FILEKEY", FILE_SECRET)


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"AWS_ACCESS_KEY_ID": "ENVKEY"}, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        ({"AWS_SECRET_ACCESS_KEY": SECRET}, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"),
    ],
)
def test_partial_environment_says_what_is_missing(
    tmp_path: Path, environ: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigurationError, match=missing) as caught:
        resolve_aws_credentials(environ=environ, home=tmp_path)
    _assert_no_secret(str(caught.value))


# --- shared files ----------------------------------------------------------------------------------


def test_default_profile_from_the_credentials_file(tmp_path: Path) -> None:
    _credentials_file(
        tmp_path,
        f"[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = {SECRET}\n"
        "aws_session_token = ftok\n",
    )
    assert resolve_aws_credentials(environ={}, home=tmp_path) == AwsCredentials("FILEKEY", SECRET, "ftok")


def test_default_profile_from_the_config_file(tmp_path: Path) -> None:
    _config_file(
        tmp_path,
        "[default]\nregion = eu-west-1\n"
        f"aws_access_key_id = CFGKEY\naws_secret_access_key = {CONFIG_SECRET}\n",
    )
    assert resolve_aws_credentials(environ={}, home=tmp_path) == AwsCredentials("CFGKEY", CONFIG_SECRET)


def test_credentials_file_wins_over_config_file(tmp_path: Path) -> None:
    _credentials_file(
        tmp_path, f"[dev]\naws_access_key_id = FILEKEY\naws_secret_access_key = {FILE_SECRET}\n"
    )
    _config_file(
        tmp_path, f"[profile dev]\naws_access_key_id = CFGKEY\naws_secret_access_key = {CONFIG_SECRET}\n"
    )
    assert resolve_aws_credentials(profile="dev", environ={}, home=tmp_path).access_key_id == "FILEKEY"


def test_named_profile_from_the_config_file_uses_the_profile_prefix(tmp_path: Path) -> None:
    _config_file(
        tmp_path,
        "[dev]\naws_access_key_id = WRONG\naws_secret_access_key = wrong\n"
        f"[profile dev]\naws_access_key_id = CFGKEY\naws_secret_access_key = {CONFIG_SECRET}\n"
        "aws_security_token = legacytok\n",
    )
    found = resolve_aws_credentials(environ={"AWS_PROFILE": "dev"}, home=tmp_path)
    assert found == AwsCredentials("CFGKEY", CONFIG_SECRET, "legacytok")


def test_profile_without_static_keys_falls_through_to_the_config_file(tmp_path: Path) -> None:
    _credentials_file(tmp_path, "[dev]\nrole_arn = arn:aws:iam::123:role/x\n")
    _config_file(
        tmp_path, f"[profile dev]\naws_access_key_id = CFGKEY\naws_secret_access_key = {CONFIG_SECRET}\n"
    )
    assert resolve_aws_credentials(profile="dev", environ={}, home=tmp_path).access_key_id == "CFGKEY"


def test_file_locations_come_from_the_environment_with_tilde_expansion(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "elsewhere/creds.ini",
        f"[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = {SECRET}\n",
    )
    _write(tmp_path, "elsewhere/config.ini", "[default]\nregion = ap-south-1\n")
    environ = {
        "AWS_SHARED_CREDENTIALS_FILE": "~/elsewhere/creds.ini",
        "AWS_CONFIG_FILE": str(tmp_path / "elsewhere/config.ini"),
    }
    assert resolve_aws_credentials(environ=environ, home=tmp_path).access_key_id == "FILEKEY"
    assert resolve_aws_region(environ=environ, home=tmp_path) == "ap-south-1"


def test_secrets_with_percent_signs_and_uppercase_default_section(tmp_path: Path) -> None:
    _credentials_file(
        tmp_path,
        "[DEFAULT]\naws_access_key_id = NOTMERGED\n"
        f"[other]\naws_secret_access_key = {SECRET}\n"
        f"[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = {SECRET}\n",
    )
    assert resolve_aws_credentials(environ={}, home=tmp_path) == AwsCredentials("FILEKEY", SECRET)
    # "[DEFAULT]" is an ordinary section here: it does not leak a key id into [other].
    with pytest.raises(ConfigurationError, match="sets aws_secret_access_key but not aws_access_key_id"):
        resolve_aws_credentials(profile="other", environ={}, home=tmp_path)


def test_partial_profile_says_what_is_missing_and_where(tmp_path: Path) -> None:
    path = _credentials_file(tmp_path, "[default]\naws_access_key_id = FILEKEY\n")
    with pytest.raises(ConfigurationError) as caught:
        resolve_aws_credentials(environ={}, home=tmp_path)
    message = str(caught.value)
    assert "sets aws_access_key_id but not aws_secret_access_key" in message
    assert str(path) in message
    assert "'default'" in message


def test_missing_credentials_list_every_place_looked(tmp_path: Path) -> None:
    _config_file(
        tmp_path, f"[profile other]\naws_access_key_id = X\naws_secret_access_key = {CONFIG_SECRET}\n"
    )
    with pytest.raises(ConfigurationError) as caught:
        resolve_aws_credentials(environ={}, home=tmp_path)
    message = str(caught.value)
    assert "No AWS credentials found (profile 'default')" in message
    assert "explicit arguments" in message
    assert "AWS_ACCESS_KEY_ID" in message
    assert "AWS_SECRET_ACCESS_KEY" in message
    assert f"shared credentials file {tmp_path / '.aws/credentials'} (not found)" in message
    assert f"config file {tmp_path / '.aws/config'} (no section [default])" in message
    _assert_no_secret(message)


def test_a_named_profile_that_exists_nowhere(tmp_path: Path) -> None:
    _credentials_file(
        tmp_path, f"[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = {FILE_SECRET}\n"
    )
    _config_file(tmp_path, "[default]\nregion = eu-west-1\n")
    with pytest.raises(ConfigurationError, match="profile 'ghost' was not found") as caught:
        resolve_aws_credentials(profile="ghost", environ={}, home=tmp_path)
    message = str(caught.value)
    assert "no section [ghost]" in message
    assert "no section [profile ghost]" in message
    assert "skipped" in message
    _assert_no_secret(message)


def test_a_malformed_file_is_reported_without_its_content(tmp_path: Path) -> None:
    _credentials_file(tmp_path, f"[default]\naws_access_key_id = FILEKEY\n{FILE_SECRET}\n")
    with pytest.raises(ConfigurationError, match=r"cannot parse .*credentials at line 3") as caught:
        resolve_aws_credentials(environ={}, home=tmp_path)
    _assert_no_secret(str(caught.value))
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


def test_a_file_without_section_header_is_reported_without_its_content(tmp_path: Path) -> None:
    _credentials_file(tmp_path, f"aws_secret_access_key = {FILE_SECRET}\n")
    with pytest.raises(ConfigurationError, match="MissingSectionHeaderError") as caught:
        resolve_aws_credentials(environ={}, home=tmp_path)
    _assert_no_secret(str(caught.value))


def test_an_unreadable_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws/credentials").write_bytes(b"[default]\naws_access_key_id = \xff\xfe\n")
    with pytest.raises(ConfigurationError, match="cannot read"):
        resolve_aws_credentials(environ={}, home=tmp_path)


def test_an_empty_profile_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="profile"):
        resolve_aws_credentials(profile=" ", environ={}, home=tmp_path)


# --- the value object ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "secret", "token"),
    [("", SECRET, None), ("AKID", "", None), ("AKID", SECRET, ""), (None, SECRET, None)],
)
def test_credentials_must_be_non_empty_strings(key: object, secret: object, token: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        AwsCredentials(key, secret, token)  # type: ignore[arg-type]
    _assert_no_secret(str(caught.value))


def test_credentials_are_immutable_values() -> None:
    credentials = AwsCredentials("AKIDEXAMPLE", SECRET)
    assert credentials == AwsCredentials("AKIDEXAMPLE", SECRET)
    assert hash(credentials) == hash(AwsCredentials("AKIDEXAMPLE", SECRET))
    with pytest.raises(AttributeError):
        credentials.secret_access_key = "other"  # type: ignore[misc]
    assert SECRET not in repr(credentials)
    assert repr(credentials) == "AwsCredentials(access_key_id='AKID…', secret=***)"


# --- region ----------------------------------------------------------------------------------------


def test_region_explicit_first(tmp_path: Path) -> None:
    assert resolve_aws_region("eu-north-1", environ={"AWS_REGION": "x"}, home=tmp_path) == "eu-north-1"


def test_region_aws_region_before_aws_default_region(tmp_path: Path) -> None:
    environ = {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-east-2"}
    assert resolve_aws_region(environ=environ, home=tmp_path) == "us-west-2"
    assert resolve_aws_region(environ={"AWS_DEFAULT_REGION": "us-east-2"}, home=tmp_path) == "us-east-2"


def test_region_from_the_config_file_for_the_profile(tmp_path: Path) -> None:
    _config_file(tmp_path, "[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-central-1\n")
    assert resolve_aws_region(environ={}, home=tmp_path) == "eu-west-1"
    assert resolve_aws_region(profile="dev", environ={}, home=tmp_path) == "eu-central-1"
    assert resolve_aws_region(environ={"AWS_PROFILE": "dev"}, home=tmp_path) == "eu-central-1"


def test_region_is_none_when_nothing_names_one(tmp_path: Path) -> None:
    _credentials_file(tmp_path, "[default]\nregion = ignored-here\n")
    assert resolve_aws_region(environ={}, home=tmp_path) is None
    assert resolve_aws_region(profile="nobody", environ={}, home=tmp_path) is None
