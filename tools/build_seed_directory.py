"""Builds `data/directory/seed.csv`, the bundled seed directory:
- `data/directory/public_bodies.csv`: the national, regional, community and provincial bodies of
  the response (public facts only, their service text in each language);
- one public social welfare centre per municipality of the 2025 map, named as in its language
  area: "CPAS X" (French-speaking), "OCMW X" (Flemish), "ÖSHZ X" (German-speaking) and
  "CPAS / OCMW X" (Brussels);
- one population service per municipality (registration, the A card), named the same way,
  except where `public_bodies.csv` already has the municipality's registration entry;
- `data/directory/facts.csv`: the public facts (phone, e-mail, website, address, hours) read on
  a public page, one per line with that page's URL. Each becomes the entry's value, its URL is
  added to the entry's `source` and the entry's `checked_on` is CHECKED_ON.

    python -m tools.build_seed_directory

Nothing is invented: an entry without a line in `facts.csv` carries only its name, role, coverage
and languages. A fact for an id that does not exist stops the build (a typo would lose it)."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

from bot.directory.csvformat import COLUMNS
from bot.directory.fields import InvalidValue, normalise_phone

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CHECKED_ON = "2026-12-02"
FACT_FIELDS = ("phone", "email", "url", "address", "hours", "source")

SERVICE = {
    "fr": "Aide sociale, revenu d'intégration et aide à la recherche de logement, y compris "
          "pour les bénéficiaires de la protection temporaire",
    "nl": "Maatschappelijke hulp, leefloon en hulp bij het zoeken naar huisvesting, ook voor "
          "mensen met tijdelijke bescherming",
    "de": "Sozialhilfe, Eingliederungseinkommen und Hilfe bei der Wohnungssuche, auch für "
          "Personen mit vorübergehendem Schutz",
    "en": "Social aid, integration income and help finding housing, including for beneficiaries "
          "of temporary protection",
    "uk": "Соціальна допомога, дохід інтеграції та допомога в пошуку житла, зокрема для осіб "
          "з тимчасовим захистом",
}
POPULATION_SERVICE = {
    "fr": "Service Population: inscription au registre des étrangers, adresse et carte A "
          "(annexe 15) des bénéficiaires de la protection temporaire",
    "nl": "Dienst Burgerzaken/Bevolking: inschrijving in het vreemdelingenregister, adres en "
          "A-kaart (bijlage 15) voor mensen met tijdelijke bescherming",
    "de": "Bevölkerungsdienst: Eintragung ins Fremdenregister, Wohnsitz und A-Karte (Anlage 15) "
          "für Personen mit vorübergehendem Schutz",
    "en": "Population service: registration in the foreigners' register, address and A card "
          "(annex 15) for beneficiaries of temporary protection",
    "uk": "Служба населення: реєстрація в реєстрі іноземців, адреса та картка A (додаток 15) "
          "для осіб з тимчасовим захистом",
}
KEYWORDS = {
    "fr": "CPAS;revenu d'intégration;aide sociale;RIS",
    "nl": "OCMW;Sociaal Huis;leefloon;maatschappelijke hulp",
    "de": "ÖSHZ;Sozialhilfe;Eingliederungseinkommen",
    "bru": "CPAS;OCMW;revenu d'intégration;leefloon;aide sociale;maatschappelijke hulp",
}
POPULATION_KEYWORDS = ("population;registre des étrangers;carte A;annexe 15;domicile;"
                       "burgerzaken;bevolking;vreemdelingenregister;A-kaart;bijlage 15;adres;"
                       "Bevölkerungsdienst;Fremdenregister;A-Karte;Wohnsitz")
# Municipalities with language facilities (language law of 1963): the minority language is
# served too. Keyed by their name in the language of their area.
FACILITIES: dict[str, dict[str, tuple[str, ...]]] = {
    "nl": {"fr": ("Drogenbos", "Kraainem", "Linkebeek", "Sint-Genesius-Rode", "Wemmel",
                  "Wezembeek-Oppem", "Voeren", "Herstappe", "Mesen", "Spiere-Helkijn", "Ronse",
                  "Bever")},
    "fr": {"nl": ("Comines-Warneton", "Mouscron", "Flobecq", "Enghien"),
           "de": ("Malmedy", "Waimes")},
}
# Names written without their ligature in the Statbel list.
SPELLING = {"Le Roeulx": "Le Rœulx"}


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def of_place(name: str) -> str:
    """French "de X", with the article contracted: "du Rœulx", "des Bons Villers"."""
    name = SPELLING.get(name, name)
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    return f"d'{name}" if name[:1].lower() in "aeiouyéèêâîôû" else f"de {name}"


def french_of(name: str) -> str:
    return f"CPAS {of_place(name)}"


def _area(row: dict[str, str]) -> str:
    if row["region"] == "BRU":
        return "bru"
    if row["community"] == "German-speaking":
        return "de"
    return "nl" if row["region"] == "VLG" else "fr"


def _languages(row: dict[str, str], area: str) -> str:
    base = {"bru": ["fr", "nl"], "de": ["de", "fr"], "nl": ["nl"], "fr": ["fr"]}[area]
    own = row["name_nl"] if area == "nl" else row["name_fr"]
    for extra, names in FACILITIES.get(area, {}).items():
        if own in names and extra not in base:
            base.append(extra)
    return ";".join(base)


def _local_name(row: dict[str, str], area: str) -> str:
    return {"bru": row["name_fr"], "de": row["name_de"], "nl": row["name_nl"],
            "fr": SPELLING.get(row["name_fr"], row["name_fr"])}[area]


def centre(row: dict[str, str]) -> dict[str, str]:
    fr, nl, de, en = row["name_fr"], row["name_nl"], row["name_de"], row["name_en"] or ""
    area = _area(row)
    local = _local_name(row, area)
    english = f"{en or local} Public Social Welfare Centre"
    name, acronym, prefix = {
        "bru": (f"CPAS / OCMW {fr}", "CPAS", "cpas"),
        "de": (f"ÖSHZ {de}", "ÖSHZ", "oeshz"),
        "nl": (f"OCMW {nl}", "OCMW", "ocmw"),
        "fr": (french_of(fr) if fr.startswith(("Le ", "Les ")) else f"CPAS {local}", "CPAS",
               "cpas"),
    }[area]
    service = SERVICE["fr"] + ". " + SERVICE["nl"] if area == "bru" else SERVICE[area]
    ident = slug(fr if area in ("bru", "fr") else de if area == "de" else nl)
    return {
        "id": f"{prefix}-{ident}", "organisation": name, "organisation_fr": french_of(fr),
        "organisation_nl": f"OCMW {nl}", "organisation_de": f"ÖSHZ {de}",
        "organisation_en": english, "acronym": acronym, "org_type": "cpas",
        "service": service, "topics": "social_aid;housing", "coverage": row["nis_code"],
        "keywords": KEYWORDS[area], "languages": _languages(row, area), "status": "active",
        **{f"service_{lang}": text for lang, text in SERVICE.items()},
    }


def population(row: dict[str, str]) -> dict[str, str]:
    fr, nl, de, en = row["name_fr"], row["name_nl"], row["name_de"], row["name_en"] or ""
    area = _area(row)
    local = _local_name(row, area)
    names = {"fr": f"Service Population {of_place(fr)}", "nl": f"Dienst Burgerzaken {nl}",
             "de": f"Bevölkerungsdienst {de}", "en": f"{en or local} population service"}
    name = {"bru": f"Service Population / Dienst Bevolking {fr}", "de": names["de"],
            "nl": names["nl"], "fr": names["fr"]}[area]
    ident = slug(fr if area in ("bru", "fr") else de if area == "de" else nl)
    return {
        "id": f"pop-{ident}", "organisation": name, "organisation_fr": names["fr"],
        "organisation_nl": names["nl"], "organisation_de": names["de"],
        "organisation_en": names["en"], "org_type": "municipal",
        "service": POPULATION_SERVICE["fr" if area == "bru" else area],
        "topics": "registration", "coverage": row["nis_code"], "keywords": POPULATION_KEYWORDS,
        "languages": _languages(row, area), "status": "active",
        **{f"service_{lang}": text for lang, text in POPULATION_SERVICE.items()},
    }


def disambiguate(rows: list[dict[str, str]], municipalities: dict[str, dict]) -> None:
    """Two municipalities that share a name in some language (Saint-Nicolas / Sint-Niklaas)
    get their province in that name: "CPAS de Saint-Nicolas (Liège)"."""
    provinces = _province_names()
    for column in ("organisation", "organisation_fr", "organisation_nl", "organisation_de",
                   "organisation_en"):
        seen: dict[str, list[dict]] = {}
        for row in rows:
            if row.get(column) and row["coverage"] in municipalities:
                seen.setdefault(row[column], []).append(row)
        lang = column.rpartition("_")[2] if "_" in column else "fr"
        for same in (group for group in seen.values() if len(group) > 1):
            for row in same:
                province = municipalities[row["coverage"]]["province_code"]
                label = provinces.get((province, lang)) or provinces.get((province, "fr"), "")
                label = re.sub(r"^(Province d[eu]s? |Province d'|Provincie |Provinz |"
                               r"Province of )", "", label)
                row[column] = f"{row[column]} ({label})"


def _province_names() -> dict[tuple[str, str], str]:
    with (DATA / "geo" / "be_provinces_regions.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return {(row["code"], lang): row[f"name_{lang}"] for row in rows
            for lang in ("fr", "nl", "de", "en") if row[f"name_{lang}"]}


def seed_phone(written: str) -> str:
    """The number as the focal-point editor stores it ("02/123.45.67" → "+32 2 123 45 67"), so
    `facts.csv` can quote each page exactly; short numbers (105, 116 000) stay as written."""
    try:
        return normalise_phone(written)
    except InvalidValue:
        return written


def apply_facts(rows: list[dict[str, str]]) -> int:
    by_id = {row["id"]: row for row in rows}
    with (DATA / "directory" / "facts.csv").open(encoding="utf-8", newline="") as f:
        facts = list(csv.DictReader(f))
    for fact in facts:
        row = by_id.get(fact["id"])
        if row is None:
            raise SystemExit(f"facts.csv: no entry {fact['id']!r}")
        if fact["field"] not in FACT_FIELDS:
            raise SystemExit(f"facts.csv: unknown field {fact['field']!r}")
        if not fact["source"].startswith(("https://", "http://")):
            raise SystemExit(f"facts.csv: {fact['id']} {fact['field']} has no source URL")
        if fact["field"] == "phone":
            row["phone"] = seed_phone(fact["value"])
        elif fact["field"] != "source":
            row[fact["field"]] = fact["value"]
        sources = [s for s in row.get("source", "").split(";") if s]
        if fact["source"] not in sources:
            row["source"] = ";".join(sources + [fact["source"]])
        row["checked_on"] = CHECKED_ON
    return len(facts)


def build() -> tuple[list[dict[str, str]], str]:
    """The seed's rows (public bodies first, then the per-municipality ones) with their facts
    applied, and a one-line summary."""
    with (DATA / "directory" / "public_bodies.csv").open(encoding="utf-8", newline="") as f:
        bodies = [row for row in csv.DictReader(f) if not row["id"].startswith("#")]
    with (DATA / "geo" / "be_municipalities.csv").open(encoding="utf-8", newline="") as f:
        municipalities = {row["nis_code"]: row for row in csv.DictReader(f)}
    registered = {row["coverage"] for row in bodies if row["topics"] == "registration"
                  and row["org_type"] == "municipal"}
    centres = [centre(row) for row in municipalities.values()]
    services = [population(row) for nis, row in municipalities.items() if nis not in registered]
    local = centres + services
    seen: set[str] = set()
    for row in local:
        if row["id"] in seen:
            row["id"] = f"{row['id']}-{row['coverage']}"
        seen.add(row["id"])
    disambiguate(local, municipalities)
    rows = bodies + local
    facts = apply_facts(rows)
    return rows, (f"{len(bodies)} public bodies, {len(centres)} centres, "
                  f"{len(services)} population services, {facts} public facts")


def render(rows: list[dict[str, str]]) -> str:
    """`seed.csv`'s text: the directory format with its HXL row."""
    names = [name for name, _tag in COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerow([tag for _name, tag in COLUMNS])
    for row in rows:
        writer.writerow([row.get(name, "") or "" for name in names])
    return out.getvalue()


def main() -> None:
    rows, summary = build()
    out = DATA / "directory" / "seed.csv"
    out.write_text(render(rows), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}: {summary}")


if __name__ == "__main__":
    main()
