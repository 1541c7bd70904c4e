"""The console transport in piped mode, as a newcomer runs it: one message a line, each reply
printed, exit at end of input."""
import io
import os
import subprocess
import sys

from bot.messages import Attachment, Choice, Reply
from bot.transports.console import ConsoleTransport, render


def _chat(tmp_path, lines, *args, env=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COORDBOT_")}
    full_env.update({"COORDBOT_DATA_DIR": str(tmp_path), "COORDBOT_LOAD_BUNDLED_DATA": "false"})
    if os.environ.get("COORDBOT_TEST_DATABASE_URL"):
        full_env["COORDBOT_DATABASE_URL"] = os.environ["COORDBOT_TEST_DATABASE_URL"]
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", "chat", *args],
                          input="\n".join(lines) + "\n",
                          env=full_env, capture_output=True, text=True, timeout=180)


def test_piped_help_then_french_help(tmp_path, database_url):
    result = _chat(tmp_path, ["/help all", "/lang fr", "/help all"], "--as", "alice")
    assert result.returncode == 0, result.stderr
    english, _, french = result.stdout.partition("Langue réglée sur Français.")
    assert "What you can do here" in english and "set your language" in english
    assert "Ce que vous pouvez faire ici" in french and "choisir votre langue" in french


def test_piped_mode_survives_bad_input_and_exits_at_end(tmp_path, database_url):
    result = _chat(tmp_path, ["", "/nope", "x" * 5000, "/whoami"], "--as", "zoe", "--lang", "nl")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "leeg bericht" in out and "Onbekende opdracht /nope" in out and "te lang" in out
    assert "Naam: zoe" in out
    assert "Traceback" not in out + result.stderr


def test_admins_come_from_the_environment(tmp_path, database_url):
    result = _chat(tmp_path, ["/whoami"], "--as", "alice",
                   env={"COORDBOT_ADMINS": "console:alice"})
    assert "Role: admin" in result.stdout


def test_render_numbers_choices_and_names_files():
    text = render(Reply("**Confirm?**", [Choice("Confirm", "yes"), Choice("Cancel", "no")],
                        Attachment("export.csv", b"a,b\n", "text/csv")))
    assert text.splitlines() == ["Confirm?", "  1. Confirm", "  2. Cancel",
                                 "  [file: export.csv, 4 bytes]"]


async def test_console_transport_reads_lines_until_eof():
    received = []
    out = io.StringIO()
    console = ConsoleTransport(user="ann", stdin=io.StringIO("one\ntwo\n"), stdout=out,
                               interactive=False)

    async def receive(message):
        received.append((message.sender_id, message.text, message.is_direct))
        await console.send(message.chat, Reply(f"got {message.text}"))

    await console.start(receive)
    assert received == [("ann", "one", True), ("ann", "two", True)]
    assert out.getvalue() == "got one\ngot two\n"


def test_a_line_can_send_a_file(tmp_path):
    from bot.transports.console import attach_file

    csv_file = tmp_path / "dir.csv"
    csv_file.write_text("id\n", encoding="utf-8")
    text, attachment = attach_file(f"/import < {csv_file}")
    assert text == "/import" and attachment.filename == "dir.csv"
    assert attachment.content == b"id\n" and attachment.mime_type == "text/csv"
    assert attach_file("3 < 5") == ("3 < 5", None)
