"""`souk config check|dump|example`: secrets are redacted, mistakes are named, exit status 2."""
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import ROOT, SOUK_BIN

SECRETS = {
    "stripe_secret": "sk_test_FILESECRET123456",
    "stripe_webhook": "whsec_FILEWEBHOOK987654",
    "paypal_secret": "PAYPAL-FILE-SECRET-4242",
    "smtp": "smtp://mailer:SMTPFILEPASS77@mail.example.com:587",
}


def souk_cli(*args, env: dict, cwd: Path, input: str | None = None):
    return subprocess.run([SOUK_BIN, *args], env=env, cwd=cwd, capture_output=True, text=True, input=input, timeout=60)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_config_dump_redacts_secrets_from_file(tmp_path, cli_env):
    config = write(tmp_path / "souk.toml", f"""
[server]
port = 9123

[payments.stripe]
secret_key = "{SECRETS['stripe_secret']}"
webhook_secret = "{SECRETS['stripe_webhook']}"

[payments.paypal]
client_id = "public-client-id"
client_secret = "{SECRETS['paypal_secret']}"
webhook_id = "WH-PUBLIC-1"

[mail]
smtp_url = "{SECRETS['smtp']}"
""")
    result = souk_cli("config", "dump", "--config", str(config), env=cli_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    for value in SECRETS.values():
        assert value not in output
    assert "SMTPFILEPASS77" not in output
    assert output.count("<redacted>") >= 4
    # Non-secret values are shown as set.
    assert "9123" in result.stdout
    assert "public-client-id" in result.stdout


def test_config_dump_redacts_secrets_from_env(tmp_path, cli_env):
    env = {
        **cli_env,
        "SOUK_PAYMENTS_STRIPE_SECRET_KEY": "sk_live_ENVSECRET55555",
        "SOUK_PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_ENVWEBHOOK1111",
        "SOUK_PAYMENTS_PAYPAL_CLIENT_SECRET": "ENV-PAYPAL-SECRET-9",
        "SOUK_MAIL_SMTP_URL": "smtp://u:ENVSMTPPASS@mail.example.com",
        "SOUK_STORE_NAME": "Env Store Name",
    }
    result = souk_cli("config", "dump", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    for secret in ("sk_live_ENVSECRET55555", "whsec_ENVWEBHOOK1111", "ENV-PAYPAL-SECRET-9", "ENVSMTPPASS"):
        assert secret not in output
    assert output.count("<redacted>") >= 4
    assert "Env Store Name" in result.stdout, "env overrides should show in the dump"


def test_config_dump_without_a_file_shows_defaults(tmp_path, cli_env):
    result = souk_cli("config", "dump", env=cli_env, cwd=tmp_path)
    assert result.returncode == 0
    assert "[server]" in result.stdout
    assert "port = 8080" in result.stdout


def test_bad_port_in_file_is_named(tmp_path, cli_env):
    config = write(tmp_path / "souk.toml", '[server]\nport = "abc"\n')
    for command in (["config", "check"], ["serve"]):
        result = souk_cli(*command, "--config", str(config), env=cli_env, cwd=tmp_path)
        assert result.returncode == 2, (command, result.returncode, result.stderr)
        assert "server.port" in result.stderr


def test_unknown_key_is_named(tmp_path, cli_env):
    config = write(tmp_path / "souk.toml", "[server]\nport = 8080\nprot = 1\n")
    result = souk_cli("config", "check", "--config", str(config), env=cli_env, cwd=tmp_path)
    assert result.returncode == 2
    assert "server.prot" in result.stderr
    config = write(tmp_path / "souk2.toml", "[nonsense]\nx = 1\n")
    result = souk_cli("config", "check", "--config", str(config), env=cli_env, cwd=tmp_path)
    assert result.returncode == 2
    assert "nonsense" in result.stderr


def test_toml_syntax_error_gives_line_number(tmp_path, cli_env):
    config = write(tmp_path / "souk.toml", "[server]\nport = 8080\n\n[store\nname = 'x'\n")
    result = souk_cli("config", "check", "--config", str(config), env=cli_env, cwd=tmp_path)
    assert result.returncode == 2
    assert "souk.toml:4" in result.stderr or "line 4" in result.stderr, result.stderr


def test_bad_env_value_is_named(tmp_path, cli_env):
    env = {**cli_env, "SOUK_SERVER_PORT": "abc"}
    for command in (["config", "check"], ["serve"]):
        result = souk_cli(*command, env=env, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert "SOUK_SERVER_PORT" in result.stderr
        assert "server.port" in result.stderr
    env = {**cli_env, "SOUK_STORE_MARKETPLACE": "maybe"}
    result = souk_cli("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "store.marketplace" in result.stderr


def test_missing_config_file_is_an_error(tmp_path, cli_env):
    result = souk_cli("config", "check", "--config", str(tmp_path / "absent.toml"), env=cli_env, cwd=tmp_path)
    assert result.returncode == 2
    assert "absent.toml" in result.stderr


def test_good_config_checks_ok(tmp_path, cli_env):
    config = write(tmp_path / "souk.toml", "[server]\nport = 9000\n[store]\nmarketplace = true\n")
    result = souk_cli("config", "check", "--config", str(config), env=cli_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_config_example_is_valid_and_matches_the_repository(tmp_path, cli_env):
    result = souk_cli("config", "example", env=cli_env, cwd=tmp_path)
    assert result.returncode == 0
    assert "[server]" in result.stdout and "[limits]" in result.stdout
    # The printed example is itself a valid configuration.
    example = write(tmp_path / "example.toml", result.stdout)
    check = souk_cli("config", "check", "--config", str(example), env=cli_env, cwd=tmp_path)
    assert check.returncode == 0, check.stderr


def test_config_example_file_in_repository_matches(cli_env, tmp_path):
    repository_copy = ROOT / "config.example.toml"
    if not repository_copy.exists():
        pytest.skip("config.example.toml is not in the repository yet")
    result = souk_cli("config", "example", env=cli_env, cwd=tmp_path)
    assert result.stdout == repository_copy.read_text()


def test_config_file_settings_reach_the_server(make_souk):
    souk = make_souk(config='[store]\nmarketplace = true\nname = "Config Store"\n')
    page = requests.get(souk.url("/signup")).text
    assert 'name="role" value="seller"' in page
    assert "Config Store" in requests.get(souk.url("/")).text
