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


@pytest.mark.parametrize("env,named", [
    ({"COORDBOT_TELEGRAM_WEBHOOK_LISTEN": "0.0.0.0:99999"}, "COORDBOT_TELEGRAM_WEBHOOK_LISTEN"),
    ({"COORDBOT_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1:0"}, "COORDBOT_TELEGRAM_WEBHOOK_LISTEN"),
    ({"COORDBOT_TELEGRAM_WEBHOOK_LISTEN": "8443x"}, "COORDBOT_TELEGRAM_WEBHOOK_LISTEN"),
    ({"COORDBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.org:99999/hook"},
     "COORDBOT_TELEGRAM_WEBHOOK_URL"),
    ({"COORDBOT_DATABASE_URL": "postgresql://bot@db.example.org:99999/coordbot"},
     "COORDBOT_DATABASE_URL"),
    ({"COORDBOT_MATRIX_HOMESERVER": "https://matrix.example.org:70000"},
     "COORDBOT_MATRIX_HOMESERVER"),
    ({"COORDBOT_TELEGRAM_WEBHOOK_URL": "http://bot.example.org/telegram/hook"},
     "COORDBOT_TELEGRAM_WEBHOOK_URL"),
    ({"COORDBOT_TELEGRAM_WEBHOOK_URL": "bot.example.org/telegram/hook"},
     "COORDBOT_TELEGRAM_WEBHOOK_URL"),
    ({"COORDBOT_MATRIX_ALLOWED": "@alice"}, "COORDBOT_MATRIX_ALLOWED"),
    ({"COORDBOT_MATRIX_ALLOWED": "CPAS Liège"}, "COORDBOT_MATRIX_ALLOWED"),
])
def test_ports_webhook_and_allowed_list_are_checked_by_name(env, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(environ=env)


def test_good_ports_and_an_https_webhook_are_accepted():
    settings = load_settings(environ={
        "COORDBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.org:8443/telegram/hook",
        "COORDBOT_TELEGRAM_WEBHOOK_LISTEN": "0.0.0.0:65535",
        "COORDBOT_DATABASE_URL": "postgresql://bot@db.example.org:5432/coordbot"})
    assert settings.telegram_webhook_listen.endswith(":65535")
    # a local Bot API server (telegram-bot-api --local) may post over plain http
    local = load_settings(environ={"COORDBOT_TELEGRAM_API_URL": "http://127.0.0.1:8081",
                                   "COORDBOT_TELEGRAM_WEBHOOK_URL": "http://127.0.0.1:8443/h"})
    assert local.telegram_webhook_url == "http://127.0.0.1:8443/h"


def test_a_bare_server_name_in_matrix_allowed_means_that_server():
    from bot.transports.matrix import is_allowed

    allowed = load_settings(environ={
        "COORDBOT_MATRIX_ALLOWED": "example.org, @someone:matrix.org, :gouv.be"}).matrix_allowed
    assert allowed == [":example.org", "@someone:matrix.org", ":gouv.be"]
    assert is_allowed("@marie:example.org", allowed) and is_allowed("@jan:gouv.be", allowed)
    assert is_allowed("@someone:matrix.org", allowed)
    assert not is_allowed("@mallory:evil.example", allowed)
    assert not is_allowed("@x:example.org.evil.example", allowed)


def test_config_check_names_the_closest_setting_for_a_misspelt_variable(tmp_path):
    result = _coordbot("config", "check", env={"COORDBOT_DATA_DIR": str(tmp_path),
                                               "COORDBOT_TELEGRAM_TOKN": "123:abc",
                                               "COORDBOT_ADMIN": "console:alice",
                                               "COORDBOT_COLOUR": "blue"})
    assert result.returncode == 0 and "configuration is valid" in result.stdout
    warnings = result.stderr.strip().splitlines()
    assert warnings == [
        "coordbot: warning: COORDBOT_ADMIN is not a setting and is ignored; did you mean "
        "COORDBOT_ADMINS?",
        "coordbot: warning: COORDBOT_COLOUR is not a setting and is ignored",
        "coordbot: warning: COORDBOT_TELEGRAM_TOKN is not a setting and is ignored; did you "
        "mean COORDBOT_TELEGRAM_TOKEN?"]
    assert "123:abc" not in result.stdout + result.stderr
