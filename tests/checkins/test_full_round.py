"""A full weekly round for 50 focal points, through the router with a fake clock: opening,
invalid values and corrections, /back, /cancel and resume, an edit, an absence, nudges only to
non-responders, the closing summary, a late answer, results and exports — every figure is
checked against the answers given."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, UTC

from openpyxl import load_workbook

from tests.checkins.conftest import deliver, register

PROVINCES = ["BE-BRU", "BE-VAN", "BE-VLI", "BE-VOV", "BE-VBR", "BE-VWV", "BE-WBR", "BE-WHT",
             "BE-WLG", "BE-WLX", "BE-WNA"]
PROVINCE_NAMES = {"BE-BRU": "Brussels-Capital", "BE-VAN": "Antwerp", "BE-VLI": "Limburg",
                  "BE-VOV": "East Flanders", "BE-VBR": "Flemish Brabant",
                  "BE-VWV": "West Flanders", "BE-WBR": "Walloon Brabant", "BE-WHT": "Hainaut",
                  "BE-WLG": "Liège", "BE-WLX": "Luxembourg", "BE-WNA": "Namur"}
STATUSES = ["green", "amber", "red"]
STATUS_LABELS = {"green": "Green: under control", "amber": "Amber: under strain",
                 "red": "Red: cannot cope"}
BOTTLENECKS = ["housing", "income", "health", "schooling", "staff", "other"]
NAMES = [f"fp{i:02d}" for i in range(1, 51)]
# As summaries and reviews show them: the question without its "?".
ARRIVALS_LABEL = ("How many people displaced from Ukraine newly registered with your "
                  "CPAS/OCMW this week")
PLACES_LABEL = "How many emergency housing places are available today"


def planned(i: int) -> dict:
    """The answers focal point number i gives (1-based)."""
    status = STATUSES[i % 3]
    answers = {"province": PROVINCES[i % 11], "arrivals": i, "places_available": (i * 7) % 23,
               "status": status}
    if status != "green":
        answers["bottleneck"] = BOTTLENECKS[i % 6]
    answers["support"] = {0: ["interpreters", "training"], 1: None, 2: ["housing_search"],
                          3: ["legal"]}[i % 4]
    answers["comment"] = f"note {i}" if i % 5 == 0 else None
    return answers


def messages_for(i: int) -> list[str]:
    plan = planned(i)
    texts = [str(PROVINCES.index(plan["province"]) + 1), str(plan["arrivals"]),
             str(plan["places_available"]), str(STATUSES.index(plan["status"]) + 1)]
    if "bottleneck" in plan:
        texts.append(str(BOTTLENECKS.index(plan["bottleneck"]) + 1))
    texts.append({0: "1, 3", 1: "/skip", 2: "2", 3: "Legal information"}[i % 4])
    texts.append(plan["comment"] or "/skip")
    return texts


async def answer_all(bot, i: int, english: bool = True) -> str:
    """Sends the planned answers; in English, checks each one was taken (next question or the
    review, never an explanation)."""
    name = NAMES[i - 1]
    for text in messages_for(i):
        reply = await bot.ask(text, as_=name)
        if english:
            assert reply.startswith(("Question", "Please check your answers")), (name, text, reply)
    return await bot.ask("1", as_=name)


def local(year, month, day, hour, minute=0) -> datetime:
    # March 2026 in Brussels is UTC+1.
    return datetime(year, month, day, hour - 1, minute, tzinfo=UTC)


def fmt(value) -> str:
    # English gets no thousands separator: in Belgium "1,250" would read as one and a quarter.
    return str(value)


async def test_full_round_for_fifty_focal_points(checkin_bot):
    bot = checkin_bot
    languages = {"fp01": "fr", "fp02": "nl", "fp03": "de", "fp04": "uk"}
    await register(bot, NAMES, languages=languages)
    await register(bot, ["gus"], role="staff")

    # --- opening ----------------------------------------------------------------------
    preview = await bot.ask("/rounds open weekly_local; 2026-03-06 17:00; role:focal_point",
                            as_="alice", chat="coord")
    assert "50 recipients: " in preview and "04/03/2026 13:30" in preview
    assert "is open: 50 people" in await bot.ask("1", as_="alice", chat="coord")
    await deliver(bot)
    assert bot.transport.chats() == set(NAMES)
    assert "Question 1 of 7: Which province" in bot.transport.to("fp10")[0]
    assert "Dans quelle province se trouve votre CPAS" in bot.transport.to("fp01")[0]
    assert "In welke provincie ligt uw OCMW" in bot.transport.to("fp02")[0]
    assert "In welcher Provinz liegt Ihr ÖSHZ" in bot.transport.to("fp03")[0]
    assert "У якій провінції" in bot.transport.to("fp04")[0]
    bot.transport.clear()

    # --- Monday: fp01..fp30 answer, with mistakes along the way -------------------------
    bot.clock.set(local(2026, 3, 2, 11))
    await bot.say(messages_for(5)[0], as_="fp05")  # province: West Flanders
    assert "between 0 and 10000" in await bot.ask("-3", as_="fp05")
    assert "whole number" in await bot.ask("abc", as_="fp05")
    back = await bot.ask("/back", as_="fp05")
    assert "Question 1 of 7" in back and "Current answer: West Flanders" in back
    assert "This is the first question." in await bot.ask("/back", as_="fp05")
    assert "answers so far are saved" in await bot.ask("/cancel", as_="fp05")
    resumed = await bot.ask("/checkin weekly_local", as_="fp05")
    assert "Question 1 of 7" in resumed and "Current answer: West Flanders" in resumed
    assert "Question 2 of 7" in await bot.ask("/skip", as_="fp05")  # keeps the answer
    assert "needs an answer" in await bot.ask("/skip", as_="fp05")  # required
    for text in messages_for(5)[1:]:
        await bot.say(text, as_="fp05")
    assert "recorded" in await bot.ask("1", as_="fp05")

    await bot.say(messages_for(6)[0], as_="fp06")
    await bot.say(messages_for(6)[1], as_="fp06")
    assert "whole number" in await bot.ask("lots", as_="fp06")
    for text in messages_for(6)[2:]:
        await bot.say(text, as_="fp06")
    assert "recorded" in await bot.ask("1", as_="fp06")

    await bot.say(messages_for(7)[0], as_="fp07")
    await bot.say("107", as_="fp07")  # a slip…
    corrected = await bot.ask("/back", as_="fp07")
    assert "Question 2 of 7" in corrected and "Current answer: 107" in corrected
    for text in messages_for(7)[1:]:
        await bot.say(text, as_="fp07")
    assert "recorded" in await bot.ask("1", as_="fp07")

    thanks = {1: "Merci, vos réponses sont enregistrées", 2: "Bedankt, uw antwoorden zijn",
              3: "Danke, Ihre Antworten sind gespeichert", 4: "Дякуємо, ваші відповіді записано"}
    for i in range(1, 31):
        if i not in (5, 6, 7):
            reply = await answer_all(bot, i, english=i > 4)
            assert thanks.get(i, "Thank you, your answers are recorded") in reply

    # --- Tuesday: fp10 edits arrivals; fp42 declares an absence -------------------------
    bot.clock.set(local(2026, 3, 3, 10))
    review = await bot.ask("/checkin edit weekly_local", as_="fp10")
    assert "check your answers" in review and ": 10" in review
    assert "Which answer" in await bot.ask("2", as_="fp10")
    assert "Current answer: 10" in await bot.ask("2", as_="fp10")
    assert f"{ARRIVALS_LABEL}: 100" in await bot.ask("100", as_="fp10")
    assert "changes are recorded" in await bot.ask("1", as_="fp10")
    assert "paused from 2026-03-03 to 2026-03-10" in await bot.ask(
        "/away 2026-03-03 2026-03-10", as_="fp42")
    # Check-ins are not offered to people outside the audience.
    assert "No check-in is waiting" in await bot.ask("/checkin", as_="alice")

    # --- halfway nudge: only non-responders, not the absent one -------------------------
    bot.clock.set(local(2026, 3, 4, 13, 31))
    assert (await bot.services.checkins.run_due())["nudged"] == 19
    await deliver(bot)
    nudged = bot.transport.chats()
    assert nudged == {f"fp{i:02d}" for i in range(31, 51)} - {"fp42"}
    assert "Reminder: your answer to Weekly local situation check-in" in bot.transport.to("fp41")[0]
    bot.transport.clear()
    assert (await bot.services.checkins.run_due())["nudged"] == 0  # never twice

    # --- Thursday: fp31..fp40 answer, then the day-before nudge --------------------------
    bot.clock.set(local(2026, 3, 5, 10))
    for i in range(31, 41):
        assert "recorded" in await answer_all(bot, i)
    bot.clock.set(local(2026, 3, 5, 17, 1))
    await bot.services.checkins.run_due()
    await deliver(bot)
    assert bot.transport.chats() == {f"fp{i:02d}" for i in range(41, 51)} - {"fp42"}
    bot.transport.clear()

    # --- deadline: summary to the report chat -------------------------------------------
    bot.clock.set(local(2026, 3, 6, 17, 1))
    assert (await bot.services.checkins.run_due())["closed"] == 1
    await deliver(bot)
    assert bot.transport.chats() == {"coord"}
    summary = bot.transport.to("coord")[0]
    answers = {i: planned(i) for i in range(1, 41)}
    answers[10]["arrivals"] = 100
    check_summary(summary, answers, assigned=50, late=0)
    assert "Not answered yet: " + ", ".join(NAMES[40:]) in summary
    bot.transport.clear()

    # --- after the deadline: edits refused, late answers accepted -----------------------
    bot.clock.set(local(2026, 3, 7, 10))
    assert "deadline has passed" in await bot.ask("/checkin edit weekly_local", as_="fp11")
    opening = await bot.ask("/checkin", as_="fp45")
    assert "Question 1 of 7" in opening
    late_reply = await answer_all(bot, 45)
    assert "late" in late_reply and "06/03/2026 17:00" in late_reply
    answers[45] = planned(45)
    results = await bot.say("/results weekly_local", as_="alice")
    check_summary(results[0].plain(), answers, assigned=50, late=1)
    chart = results[1].attachment
    assert chart.mime_type == "image/png" and chart.content.startswith(b"\x89PNG")

    # --- exports ------------------------------------------------------------------------
    csv_reply, xlsx_reply = await bot.say("/export weekly_local 1", as_="alice")
    rows = list(csv.reader(io.StringIO(csv_reply.attachment.content.decode("utf-8-sig"))))
    header, tags, data = rows[0], rows[1], rows[2:]
    assert "comment" not in header  # personal data: aggregates only
    assert tags[header.index("arrivals")] == "#affected+arrived"
    assert len(data) == 41
    by_name = {row[header.index("respondent")]: row for row in data}
    assert by_name["fp10"][header.index("arrivals")] == "100"
    assert by_name["fp45"][header.index("late")] == "yes"
    assert by_name["fp04"][header.index("support")] == "interpreters training"
    assert sum(int(row[header.index("arrivals")]) for row in data) == sum(
        a["arrivals"] for a in answers.values())
    workbook = load_workbook(io.BytesIO(xlsx_reply.attachment.content))
    assert workbook["responses"].max_row == 43
    summary_rows = list(workbook["summary"].iter_rows(values_only=True))
    # The first five columns are codes for machines; the labels follow for the reader.
    assert ("comment", "#description", "", "answered", 9) in [
        tuple("" if v is None else v for v in row)[:5] for row in summary_rows]


def check_summary(text: str, answers: dict[int, dict], *, assigned: int, late: int) -> None:
    submitted = len(answers)
    percent = round(100 * submitted / assigned)
    assert f"Responses: {submitted} of {assigned} ({percent}%), of which {late} late." in text
    for name, label in (("arrivals", ARRIVALS_LABEL), ("places_available", PLACES_LABEL)):
        total = sum(a[name] for a in answers.values())
        line = next(line for line in text.split("\n") if line.startswith(label + ": total"))
        assert line.startswith(f"{label}: total {fmt(total)} ({submitted} answers"), line
        by_region: dict[str, int] = {}
        for a in answers.values():
            by_region[a["province"]] = by_region.get(a["province"], 0) + a[name]
        expected = "; ".join(f"{PROVINCE_NAMES[code]} {fmt(value)}"
                             for code, value in sorted(by_region.items()))
        assert "   " + expected in text
    counts = {s: sum(1 for a in answers.values() if a["status"] == s) for s in STATUSES}
    assert "Overall situation this week: " + ", ".join(
        f"{STATUS_LABELS[s]} ({counts[s]})" for s in STATUSES if counts[s]) in text
    bottlenecks = {b: sum(1 for a in answers.values() if a.get("bottleneck") == b)
                   for b in BOTTLENECKS}
    line = next(line for line in text.split("\n") if line.startswith("What is the main"))
    for count in bottlenecks.values():
        if count:
            assert re.search(rf"\b{count}\b", line)
    support_counts = {}
    for a in answers.values():
        for item in a["support"] or []:
            support_counts[item] = support_counts.get(item, 0) + 1
    line = next(line for line in text.split("\n") if line.startswith("Which support"))
    assert f"Interpreters ({support_counts['interpreters']})" in line
    assert f"Legal information ({support_counts['legal']})" in line
    comments = sum(1 for a in answers.values() if a["comment"])
    assert (f"Anything coordinators should know? (optional; do not name individuals): "
            f"{comments} answers (personal data: only the count is shown)") in text
    assert "note 5" not in text
