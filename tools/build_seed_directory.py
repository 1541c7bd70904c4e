"""Builds `data/directory/seed.csv`, the bundled seed directory:
`data/directory/public_bodies.csv` (the national, regional, community and provincial bodies of
the response, public facts only) plus one public social welfare centre per municipality of the
2025 map, named as in its language area: "CPAS X" (French-speaking), "OCMW X" (Flemish),
"ÖSHZ X" (German-speaking) and "CPAS / OCMW X" (Brussels).

    python -m tools.build_seed_directory

No person, phone number or e-mail is invented: the centres carry only their name, role,
coverage (their municipality's NIS code) and languages."""
from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

from bot.directory.csvformat import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

SERVICE = {
    "fr": "Aide sociale, revenu d'intégration et aide à la recherche de logement, y compris "
          "pour les bénéficiaires de la protection temporaire",
    "nl": "Maatschappelijke hulp, leefloon en hulp bij het zoeken naar huisvesting, ook voor "
          "mensen met tijdelijke bescherming",
    "de": "Sozialhilfe, Eingliederungseinkommen und Hilfe bei der Wohnungssuche, auch für "
          "Personen mit vorübergehendem Schutz",
}
KEYWORDS = {
    "fr": "CPAS;revenu d'intégration;aide sociale;RIS",
    "nl": "OCMW;Sociaal Huis;leefloon;maatschappelijke hulp",
    "de": "ÖSHZ;Sozialhilfe;Eingliederungseinkommen",
    "bru": "CPAS;OCMW;revenu d'intégration;leefloon;aide sociale;maatschappelijke hulp",
}


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def french_of(name: str) -> str:
    return f"CPAS d'{name}" if name[:1].lower() in "aeiouyéèêâîôû" else f"CPAS de {name}"


def centre(row: dict[str, str]) -> dict[str, str]:
    fr, nl, de, en = row["name_fr"], row["name_nl"], row["name_de"], row["name_en"] or ""
    english = f"{en or (nl if row['region'] == 'VLG' else de if row['community'] == 'German-speaking' else fr)}" \
              " Public Social Welfare Centre"
    if row["region"] == "BRU":
        name, acronym, langs, area = f"CPAS / OCMW {fr}", "CPAS", "fr;nl", "bru"
        prefix, service = "cpas", SERVICE["fr"] + ". " + SERVICE["nl"]
        ident = slug(fr)
    elif row["community"] == "German-speaking":
        name, acronym, langs, area = f"ÖSHZ {de}", "ÖSHZ", "de;fr", "de"
        prefix, service, ident = "oeshz", SERVICE["de"], slug(de)
    elif row["region"] == "VLG":
        name, acronym, langs, area = f"OCMW {nl}", "OCMW", "nl", "nl"
        prefix, service, ident = "ocmw", SERVICE["nl"], slug(nl)
    else:
        name, acronym, langs, area = f"CPAS {fr}", "CPAS", "fr", "fr"
        prefix, service, ident = "cpas", SERVICE["fr"], slug(fr)
    return {
        "id": f"{prefix}-{ident}", "organisation": name, "organisation_fr": french_of(fr),
        "organisation_nl": f"OCMW {nl}", "organisation_de": f"ÖSHZ {de}",
        "organisation_en": english, "acronym": acronym, "org_type": "cpas",
        "service": service, "topics": "social_aid;housing", "coverage": row["nis_code"],
        "keywords": KEYWORDS[area], "languages": langs, "status": "active",
    }


def main() -> None:
    names = [name for name, _tag in COLUMNS]
    with (DATA / "directory" / "public_bodies.csv").open(encoding="utf-8", newline="") as f:
        bodies = [row for row in csv.DictReader(f) if not row["id"].startswith("#")]
    with (DATA / "geo" / "be_municipalities.csv").open(encoding="utf-8", newline="") as f:
        centres = [centre(row) for row in csv.DictReader(f)]
    seen: set[str] = set()
    for row in centres:
        if row["id"] in seen:
            row["id"] = f"{row['id']}-{row['coverage']}"
        seen.add(row["id"])
    out = DATA / "directory" / "seed.csv"
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        writer.writerow([tag for _name, tag in COLUMNS])
        for row in bodies + centres:
            writer.writerow([row.get(name, "") for name in names])
    print(f"wrote {out.relative_to(ROOT)}: {len(bodies)} public bodies, {len(centres)} centres")


if __name__ == "__main__":
    main()
