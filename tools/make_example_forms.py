"""Writes data/forms/weekly_local.xlsx, the example XLSForm for the weekly local situation
check-in of CPAS/OCMW/ÖSHZ focal points: `python -m tools.make_example_forms`.

The workbook is generated (rather than edited by hand) so that its content is reviewable
here; coordinators can open it in a spreadsheet, change it and load it with `/forms add`."""
from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "data" / "forms" / "weekly_local.xlsx"
LANGUAGES = [("en", "English (en)"), ("fr", "Français (fr)"), ("nl", "Nederlands (nl)"),
             ("de", "Deutsch (de)"), ("uk", "Українська (uk)")]


def t(en, fr, nl, de, uk):
    return {"en": en, "fr": fr, "nl": nl, "de": de, "uk": uk}


SURVEY = [
    {"type": "note", "name": "intro", "label": t(
        "Weekly local situation check-in: figures for the past week (Monday to Sunday). "
        "It takes about two minutes.",
        "Point hebdomadaire sur la situation locale : chiffres de la semaine écoulée (lundi à "
        "dimanche). Cela prend environ deux minutes.",
        "Wekelijkse bevraging over de lokale situatie: cijfers van de afgelopen week (maandag "
        "tot zondag). Het duurt ongeveer twee minuten.",
        "Wöchentliche Meldung zur lokalen Lage: Zahlen der vergangenen Woche (Montag bis "
        "Sonntag). Das dauert etwa zwei Minuten.",
        "Щотижневе опитування про місцеву ситуацію: дані за минулий тиждень (з понеділка по "
        "неділю). Це займе близько двох хвилин.")},
    {"type": "select_one province", "name": "province", "required": "yes",
     "hxl": "#adm1+code", "region": "yes", "label": t(
         "Which province is your CPAS/OCMW in?",
         "Dans quelle province se trouve votre CPAS ?",
         "In welke provincie ligt uw OCMW?",
         "In welcher Provinz liegt Ihr ÖSHZ?",
         "У якій провінції розташований ваш CPAS/OCMW?")},
    {"type": "integer", "name": "arrivals", "required": "yes",
     "constraint": ". >= 0 and . <= 10000", "hxl": "#affected+arrived", "label": t(
         "How many people displaced from Ukraine newly registered with your CPAS/OCMW this week?",
         "Combien de personnes déplacées d'Ukraine se sont nouvellement inscrites auprès de "
         "votre CPAS cette semaine ?",
         "Hoeveel ontheemden uit Oekraïne hebben zich deze week nieuw aangemeld bij uw OCMW?",
         "Wie viele Vertriebene aus der Ukraine haben sich diese Woche neu bei Ihrem ÖSHZ "
         "angemeldet?",
         "Скільки переміщених з України осіб уперше зареєструвалися у вашому CPAS/OCMW цього "
         "тижня?"),
     "constraint_message": t(
         "Enter a whole number between 0 and 10000.",
         "Indiquez un nombre entier entre 0 et 10000.",
         "Geef een geheel getal tussen 0 en 10000.",
         "Geben Sie eine ganze Zahl zwischen 0 und 10000 ein.",
         "Введіть ціле число від 0 до 10000.")},
    {"type": "integer", "name": "places_available", "required": "yes",
     "constraint": ". >= 0 and . <= 10000", "hxl": "#capacity+available", "label": t(
         "How many emergency housing places are available today?",
         "Combien de places d'hébergement d'urgence sont disponibles aujourd'hui ?",
         "Hoeveel noodopvangplaatsen zijn vandaag beschikbaar?",
         "Wie viele Notunterkunftsplätze sind heute verfügbar?",
         "Скільки місць екстреного житла доступно сьогодні?"),
     "constraint_message": t(
         "Enter a whole number between 0 and 10000.",
         "Indiquez un nombre entier entre 0 et 10000.",
         "Geef een geheel getal tussen 0 en 10000.",
         "Geben Sie eine ganze Zahl zwischen 0 und 10000 ein.",
         "Введіть ціле число від 0 до 10000.")},
    {"type": "select_one status", "name": "status", "required": "yes", "hxl": "#status+code",
     "label": t("Overall situation this week?", "Situation générale cette semaine ?",
                "Algemene situatie deze week?", "Gesamtlage diese Woche?",
                "Загальна ситуація цього тижня?")},
    {"type": "select_one bottleneck", "name": "bottleneck", "required": "yes",
     "relevant": "${status} != 'green'", "hxl": "#sector+bottleneck", "label": t(
         "What is the main bottleneck?", "Quel est le principal point de blocage ?",
         "Wat is het grootste knelpunt?", "Was ist der größte Engpass?",
         "Яка найбільша проблема?")},
    {"type": "select_multiple support", "name": "support", "hxl": "#sector+support", "label": t(
        "Which support would help you most? (several answers possible)",
        "Quel soutien vous aiderait le plus ? (plusieurs réponses possibles)",
        "Welke ondersteuning zou u het meest helpen? (meerdere antwoorden mogelijk)",
        "Welche Unterstützung würde Ihnen am meisten helfen? (Mehrfachauswahl möglich)",
        "Яка підтримка допомогла б вам найбільше? (можна кілька відповідей)")},
    {"type": "text", "name": "comment", "personal": "yes", "hxl": "#description", "label": t(
        "Anything coordinators should know? (optional; do not name individuals)",
        "Quelque chose que les coordinateurs devraient savoir ? (facultatif ; ne citez "
        "personne nommément)",
        "Iets wat de coördinatoren moeten weten? (optioneel; noem geen personen bij naam)",
        "Gibt es etwas, das die Koordination wissen sollte? (optional; keine Namen von Personen)",
        "Що ще варто знати координаторам? (необов'язково; не називайте імен)")},
]

CHOICES = {
    "province": [
        ("BE-BRU", t("Brussels-Capital", "Bruxelles-Capitale", "Brussels Hoofdstedelijk Gewest",
                     "Brüssel-Hauptstadt", "Брюссель-столиця")),
        ("BE-VAN", t("Antwerp", "Anvers", "Antwerpen", "Antwerpen", "Антверпен")),
        ("BE-VLI", t("Limburg", "Limbourg", "Limburg", "Limburg", "Лімбург")),
        ("BE-VOV", t("East Flanders", "Flandre-Orientale", "Oost-Vlaanderen", "Ostflandern",
                     "Східна Фландрія")),
        ("BE-VBR", t("Flemish Brabant", "Brabant flamand", "Vlaams-Brabant", "Flämisch-Brabant",
                     "Фламандський Брабант")),
        ("BE-VWV", t("West Flanders", "Flandre-Occidentale", "West-Vlaanderen", "Westflandern",
                     "Західна Фландрія")),
        ("BE-WBR", t("Walloon Brabant", "Brabant wallon", "Waals-Brabant", "Wallonisch-Brabant",
                     "Валлонський Брабант")),
        ("BE-WHT", t("Hainaut", "Hainaut", "Henegouwen", "Hennegau", "Ено")),
        ("BE-WLG", t("Liège", "Liège", "Luik", "Lüttich", "Льєж")),
        ("BE-WLX", t("Luxembourg", "Luxembourg", "Luxemburg", "Luxemburg", "Люксембург")),
        ("BE-WNA", t("Namur", "Namur", "Namen", "Namur", "Намюр")),
    ],
    "status": [
        ("green", t("Green: under control", "Vert : sous contrôle", "Groen: onder controle",
                    "Grün: unter Kontrolle", "Зелений: під контролем")),
        ("amber", t("Amber: under strain", "Orange : sous tension", "Oranje: onder druk",
                    "Gelb: angespannt", "Жовтий: напружено")),
        ("red", t("Red: cannot cope", "Rouge : débordé", "Rood: overbelast", "Rot: überlastet",
                  "Червоний: не справляємося")),
    ],
    "bottleneck": [
        ("housing", t("Housing", "Logement", "Huisvesting", "Wohnraum", "Житло")),
        ("income", t("Social integration income", "Revenu d'intégration", "Leefloon",
                     "Eingliederungseinkommen", "Дохід соціальної інтеграції")),
        ("health", t("Health care", "Soins de santé", "Gezondheidszorg", "Gesundheitsversorgung",
                     "Медична допомога")),
        ("schooling", t("School places", "Places dans les écoles", "Schoolplaatsen",
                        "Schulplätze", "Місця у школах")),
        ("staff", t("Staff shortage", "Manque de personnel", "Personeelstekort",
                    "Personalmangel", "Брак персоналу")),
        ("other", t("Other", "Autre", "Andere", "Sonstiges", "Інше")),
    ],
    "support": [
        ("interpreters", t("Interpreters", "Interprètes", "Tolken", "Dolmetscher",
                           "Перекладачі")),
        ("housing_search", t("Help finding housing", "Aide à la recherche de logement",
                             "Hulp bij het zoeken naar woningen", "Hilfe bei der Wohnungssuche",
                             "Допомога з пошуком житла")),
        ("training", t("Staff training", "Formation du personnel", "Opleiding van personeel",
                       "Schulung des Personals", "Навчання персоналу")),
        ("legal", t("Legal information", "Information juridique", "Juridische informatie",
                    "Rechtsinformationen", "Юридична інформація")),
    ],
}

SETTINGS = {"form_id": "weekly_local", "version": "2026-03", "default_language": "English (en)",
            "form_title": "Weekly local situation check-in"}
TITLES = t("Weekly local situation check-in", "Point hebdomadaire sur la situation locale",
           "Wekelijkse bevraging lokale situatie", "Wöchentliche Meldung zur lokalen Lage",
           "Щотижневе опитування про місцеву ситуацію")


def build_workbook() -> Workbook:
    workbook = Workbook()
    survey = workbook.active
    survey.title = "survey"
    header = ["type", "name"] + [f"label::{name}" for _code, name in LANGUAGES] + [
        "required", "constraint"] + [f"constraint_message::{name}" for _c, name in LANGUAGES] + [
        "relevant", "instance::hxl", "bind::coordbot:personal", "bind::coordbot:region"]
    survey.append(header)
    for row in SURVEY:
        messages = row.get("constraint_message", {})
        survey.append([row["type"], row["name"]]
                      + [row["label"][code] for code, _name in LANGUAGES]
                      + [row.get("required", ""), row.get("constraint", "")]
                      + [messages.get(code, "") for code, _name in LANGUAGES]
                      + [row.get("relevant", ""), row.get("hxl", ""), row.get("personal", ""),
                         row.get("region", "")])
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name"] + [f"label::{name}" for _code, name in LANGUAGES])
    for list_name, items in CHOICES.items():
        for name, labels in items:
            choices.append([list_name, name] + [labels[code] for code, _n in LANGUAGES])
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "version", "default_language"]
                    + [f"form_title::{name}" for _code, name in LANGUAGES])
    settings.append([SETTINGS["form_id"], SETTINGS["version"], SETTINGS["default_language"]]
                    + [TITLES[code] for code, _name in LANGUAGES])
    for sheet in workbook.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    return workbook


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else OUTPUT
    target.parent.mkdir(parents=True, exist_ok=True)
    build_workbook().save(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
