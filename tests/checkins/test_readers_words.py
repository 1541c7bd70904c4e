"""Results and exports in the coordinator's words: numbers as the reader writes them (babel),
percentages averaged and drawn on their own axis, chart legends that fit, and exports that
keep their codes for machines while adding labels in the coordinator's language."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from PIL import Image

from bot.checkins import reports
from tests.checkins.conftest import deliver, register

MONTHLY = {  # region, month, residents, collective, income support, employment %, trend
    "olga": ["3", "2026-03-01", "1250", "100", "200", "55,5", "1"],
    "piet": ["3", "1/3/2026", "300", "10", "20", "40", "2"],
}


async def monthly_round_answered(bot) -> None:
    await register(bot, list(MONTHLY), languages={"olga": "fr", "piet": "nl"})
    await bot.say("/lang fr", as_="alice")
    await bot.say("/rounds open monthly_regional; 2026-03-06 17:00; role:focal_point",
                  as_="alice", chat="coord")
    await bot.say("oui", as_="alice", chat="coord")
    await deliver(bot)
    for name, answers in MONTHLY.items():
        for text in answers + ["/skip"]:
            await bot.say(text, as_=name)
        await bot.say("1", as_=name)


async def test_results_write_numbers_and_dates_as_the_reader_does(checkin_bot):
    bot = checkin_bot
    await monthly_round_answered(bot)
    french = (await bot.say("/results monthly_regional", as_="alice", chat="coord"))[0].plain()
    assert "total 1\u202f550 (2 réponses, moyenne 775)" in french
    # A share is averaged, never added up: 47,75 %, not "total 95.5".
    assert "moyenne 47,75 % (2 réponses)" in french and "95" not in french
    assert ": 01/03/2026 (2)" in french  # the month answered, day first
    assert "?:" not in french and "? :" not in french
    await bot.say("/lang nl", as_="alice")
    dutch = (await bot.say("/results monthly_regional", as_="alice", chat="coord"))[0].plain()
    assert "totaal 1.550 (2 antwoorden, gemiddelde 775)" in dutch
    assert "gemiddeld 47,75% (2 antwoorden)" in dutch


async def test_exports_keep_codes_and_add_the_coordinators_labels(checkin_bot):
    bot = checkin_bot
    await monthly_round_answered(bot)
    csv_reply, xlsx_reply = await bot.say("/export monthly_regional", as_="alice", chat="coord")
    rows = list(csv.reader(io.StringIO(csv_reply.attachment.content.decode("utf-8-sig"))))
    # The CSV stays the machine contract: codes, then the HXL row, then the data.
    assert rows[0][:2] == ["round", "respondent"] and rows[1][0] == "#meta+round"
    assert "trend" in rows[0] and {row[rows[0].index("trend")] for row in rows[2:]} == {
        "up", "stable"}
    book = load_workbook(io.BytesIO(xlsx_reply.attachment.content))
    assert [c.value for c in book["responses"][2]][0] == "#meta+round"
    labels = [tuple(row) for row in book["labels"].iter_rows(values_only=True)]
    assert ("respondent", "Répondant", None, None) in labels
    assert ("trend", None, "up", "en hausse") in labels
    assert any(row[0] == "residents" and row[1].startswith("Bénéficiaires") for row in labels)
    summary = [tuple(row) for row in book["summary"].iter_rows(values_only=True)]
    assert summary[0][:5] == ("question", "hxl", "region", "item", "value")
    assert ("trend", "#indicator+trend", None, "stable", 1) == summary[next(
        i for i, row in enumerate(summary) if row[0] == "trend" and row[3] == "stable")][:5]
    assert any(row[0] == "trend" and row[3] == "stable" and row[6] == "stables"
               for row in summary)


def test_chart_puts_percentages_on_their_own_axis_and_the_legend_fits():
    long = "Bénéficiaires de la protection temporaire résidant dans la région en fin de mois"
    counts = {f"{long} ({n})": [("R1", 100.0 * n), ("R2", 120.0 * n)] for n in range(1, 5)}
    shares = {"Part des personnes en âge de travailler ayant un emploi (%)": [("R1", 47.5),
                                                                              ("R2", 52.0)]}
    png = reports.chart_png("Rapport mensuel", counts, "—", shares, ("Nombre", "Part (%)"))
    image = Image.open(io.BytesIO(png))
    plain = Image.open(io.BytesIO(reports.chart_png("Rapport mensuel", {}, "—")))
    # The legend sits under the plot and the image grows to hold all five lines of it.
    assert image.height > plain.height + 60
    figure = reports.chart_figure("Rapport mensuel", counts, "—", shares, ("Nombre", "Part (%)"))
    left, right = figure.axes
    assert left.get_ylabel() == "Nombre" and right.get_ylabel() == "Part (%)"
    assert right.get_ylim() == (0, 100) and left.get_ylim()[1] > 400
    assert len(right.get_lines()) == 1 and len(left.get_lines()) == 4
