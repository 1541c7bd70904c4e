"""The pages show the same figures as `/results`, escape what people typed, audit views of
personal data, and offer the same exports as `/export`."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from bot.trust.models import AuditEntry
from tests.web.conftest import monthly_round, sign_in


def cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html)]


async def test_round_page_figures_equal_results(web_bot):
    await monthly_round(web_bot, {"olga": ("1", 1000), "piet": ("2", 2500),
                                  "quentin": ("3", 800)}, silent=["<b>rita</b>"])
    results = (await web_bot.say("/results monthly_regional", as_="alice"))[0].plain()
    assert "Responses: 3 of 4 (75%)" in results and "total 4300" in results
    await sign_in(web_bot, "alice")

    listing = await (await web_bot.client.get("/rounds")).text()
    assert "/rounds/monthly_regional/1" in listing and "3/4" in cells(listing)

    response = await web_bot.client.get("/rounds/monthly_regional/1")
    page = await response.text()
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert "3 / 4" in page and "75 %" in page
    table = cells(page)
    # Per province/region: asked, answered, rate — the same split as "By region" in /results.
    for label in ["Brussels-Capital", "Flanders", "Wallonia"]:
        assert label in results
        at = table.index(label)
        assert table[at + 1:at + 4] in (["1", "1", "100 %"], ["1", "0", "0 %"])
    assert "4300" in table                             # the total of residents, as in /results
    # The non-responder's name, escaped: markup someone chose as a name stays text.
    assert "&lt;b&gt;rita&lt;/b&gt;" in page and "<b>rita</b>" not in page
    assert "<svg" in page and "R1" in page               # the trend chart
    async with web_bot.services.db.session() as session:
        assert "web.round_view" in list(await session.scalars(select(AuditEntry.action)))


async def test_downloads_reuse_the_export(web_bot):
    await monthly_round(web_bot, {"olga": ("1", 1000)}, silent=["piet"])
    await sign_in(web_bot, "alice")
    response = await web_bot.client.get("/rounds/monthly_regional/1/export.csv")
    assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    chat_csv = (await web_bot.say("/export monthly_regional", as_="alice"))[0].attachment
    assert rows == list(csv.reader(io.StringIO(chat_csv.content.decode("utf-8-sig"))))
    assert rows[1][0].startswith("#")                    # the HXL row
    xlsx = await web_bot.client.get("/rounds/monthly_regional/1/export.xlsx")
    book = load_workbook(io.BytesIO(await xlsx.read()))
    assert book.sheetnames == ["responses", "summary", "round"]
    assert (await web_bot.client.get("/rounds/monthly_regional/9")).status == 404
    assert (await web_bot.client.get("/rounds/nope/1")).status == 404


async def test_directory_and_reminders_pages(web_bot):
    csv_text = ("id,organisation,topics,coverage,phone,last_verified\r\n"
                "x-1,CPAS de Namur,housing,92094,+32 81 00 00 00,2026-02-01\r\n"
                "x-2,<script>alert(1)</script>,social_aid,92094,,\r\n")
    directory = web_bot.services.directory
    async with web_bot.services.db.transaction() as session:
        report = await directory.import_file(session, csv_text.encode())
        assert report.applied, report.problems
    async with web_bot.services.db.session() as session:
        await directory.refresh(session)
    await web_bot.say("/meeting every monday at 10:00; Weekly call; here", as_="alice")
    await web_bot.ask("1", as_="alice")
    await sign_in(web_bot, "alice")
    page = await (await web_bot.client.get("/directory")).text()
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert "Namur" in page and "x-2" in page
    assert "Recently changed" in page and "Changes asked for by focal points" in page
    await web_bot.say("/broadcast all; <i>Reunion moved</i>", as_="alice")
    await web_bot.say("1", as_="alice")
    reminders = await (await web_bot.client.get("/reminders")).text()
    assert "Weekly call" in reminders
    assert "&lt;i&gt;Reunion moved&lt;/i&gt;" in reminders and "<i>Reunion" not in reminders


async def test_a_new_answer_shows_at_once(web_bot):
    await monthly_round(web_bot, {"olga": ("1", 1000)}, silent=["piet"])
    await sign_in(web_bot, "alice")
    assert "1 / 2" in await (await web_bot.client.get("/rounds/monthly_regional/1")).text()
    for text in ["2", "2026-03-01", "2500", "10", "5", "/skip", "1", "ok"]:
        await web_bot.say(text, as_="piet")
    assert "recorded" in await web_bot.ask("1", as_="piet")
    page = await (await web_bot.client.get("/rounds/monthly_regional/1")).text()
    assert "2 / 2" in page and "3500" in cells(page)
