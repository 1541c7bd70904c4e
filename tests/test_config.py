import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


def test_environment_and_file_and_secret_files(tmp_path):
    config = tmp_path / "coordbot.toml"
    config.write_text('default_locale = "nl"\ntimezone = "Europe/Brussels"\n', encoding="utf-8")
    secret = tmp_path / "token"
    secret.write_text("123456:ABCDEF-secret\n", encoding="utf-8")
    settings = load_settings(config, environ={"COORDBOT_DEFAULT_LOCALE": "fr",
                                              "COORDBOT_TELEGRAM_TOKEN_FILE": str(secret),
                                              "COORDBOT_ADMINS": "console:alice, telegram:42"})
    assert settings.default_locale == "fr"  # environment wins over the file
    assert settings.telegram_token == "123456:ABCDEF-secret"
    assert settings.admins == ["console:alice", "telegram:42"]
    assert settings.masked()["telegram_token"] == "****"


@pytest.mark.parametrize("env,named", [
    ({"COORDBOT_DEFAULT_LOCALE": "es"}, "COORDBOT_DEFAULT_LOCALE"),
    ({"COORDBOT_TIMEZONE": "Mars/Olympus"}, "COORDBOT_TIMEZONE"),
    ({"COORDBOT_ADMINS": "alice"}, "COORDBOT_ADMINS"),
    ({"COORDBOT_DATABASE_URL": "oracle://x"}, "COORDBOT_DATABASE_URL"),
    ({"COORDBOT_MAX_MESSAGE_LENGTH": "lots"}, "COORDBOT_MAX_MESSAGE_LENGTH"),
    ({"COORDBOT_LOAD_BUNDLED_DATA": "perhaps"}, "COORDBOT_LOAD_BUNDLED_DATA"),
])
def test_invalid_settings_name_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(environ=env)


def _coordbot(*args, env=None, stdin=None):
    import os
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COORDBOT_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], env=full_env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_config_check_masks_secrets_and_fails_on_invalid(tmp_path):
    ok = _coordbot("config", "check", env={"COORDBOT_DATA_DIR": str(tmp_path),
                                           "COORDBOT_MATRIX_PASSWORD": "hunter2",
                                           "COORDBOT_DATABASE_URL": "postgresql://u:pw@h/db"})
    assert ok.returncode == 0
    assert "hunter2" not in ok.stdout and "pw@" not in ok.stdout
    assert "matrix_password = ****" in ok.stdout
    bad = _coordbot("config", "check", env={"COORDBOT_TIMEZONE": "Nowhere/Land"})
    assert bad.returncode != 0
    assert "COORDBOT_TIMEZONE" in bad.stderr and "Traceback" not in bad.stderr


def test_unreachable_database_is_one_clear_line(tmp_path):
    result = _coordbot("db", "upgrade", env={
        "COORDBOT_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode != 0
    assert "cannot open the database" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_help_lists_the_commands():
    result = _coordbot("--help")
    assert result.returncode == 0
    for word in ("chat", "run", "db", "config"):
        assert word in result.stdout


@pytest.mark.parametrize("command", [["chat"], ["run"], ["db", "upgrade"]])
@pytest.mark.parametrize("where", ["under-a-file", "is-a-file"])
def test_a_data_directory_that_cannot_be_made_is_one_clear_line(tmp_path, command, where):
    import os
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    data_dir = blocker / "var" if where == "under-a-file" else blocker
    env = {"COORDBOT_DATA_DIR": str(data_dir), "COORDBOT_TELEGRAM_TOKEN": "1:x"}
    if os.environ.get("COORDBOT_TEST_DATABASE_URL"):
        env["COORDBOT_DATABASE_URL"] = os.environ["COORDBOT_TEST_DATABASE_URL"]
    result = _coordbot(*command, env=env, stdin="/help\n")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "COORDBOT_DATA_DIR" in result.stderr and str(data_dir) in result.stderr
    assert "What you can do here" not in result.stdout
