"""The area hierarchy and the place gazetteer of Belgium (2025 map), read from `data/geo/` and
`data/vocabulary/exonyms.csv`.

Areas: the country `BE`, regions, provinces and arrondissements (Statbel NIS codes, ISO
3166-2:BE codes accepted as aliases), the 565 municipalities and the three communities `DG`,
`FWB`, `VG`. Every area knows the set of municipalities it contains, so containment and overlap
are set operations. Places in queries are names in fr/nl/de/en, exonyms, sub-municipalities,
pre-2025 municipality names and postal codes."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.directory.text import is_cyrillic, phrase, tokens, umlaut_variant
from bot.directory.translit import UK_ENDINGS, cyrillic_key, sound_keys

# Rank of an area level: the most local first. Community and region rank the same.
LEVEL_RANK = {"municipality": 0, "arrondissement": 1, "province": 2, "region": 3,
              "community": 3, "country": 4}

ISO_CODES = {
    "BE-BRU": "04000", "BE-VLG": "02000", "BE-WAL": "03000",
    "BE-VAN": "10000", "BE-VBR": "20001", "BE-VLI": "70000", "BE-VOV": "40000",
    "BE-VWV": "30000", "BE-WBR": "20002", "BE-WHT": "50000", "BE-WLG": "60000",
    "BE-WLX": "80000", "BE-WNA": "90000",
}
REGION_NIS = {"VLG": "02000", "WAL": "03000", "BRU": "04000"}

# How sure a place name is, best first: a municipality's own name or curated exonym; a
# province, region, community or country name; a sub-municipality or pre-2025 municipality;
# a derived short form ("Jupille" for "Jupille-sur-Meuse").
MUNICIPALITY_NAME, AREA_NAME, LOCALITY_NAME, SHORT_NAME = 0, 1, 2, 3
_CONNECTORS = {"sur", "lez", "les", "sous", "aux", "au", "en", "aan", "op", "ter", "ten",
               "bij", "am", "an", "de"}
_AREA_PREFIXES = ("province de ", "province du ", "province d'", "provincie ", "provinz ",
                  "province of ", "arrondissement de ", "arrondissement d'",
                  "arrondissement du ", "arrondissement ", "bezirk ")


@dataclass(frozen=True)
class Area:
    code: str
    level: str
    names: dict[str, str]
    municipalities: frozenset[str]
    parent: str | None = None

    @property
    def rank(self) -> int:
        return LEVEL_RANK[self.level]

    def name(self, lang: str = "en") -> str:
        return (self.names.get(lang) or self.names.get("en") or self.names.get("fr")
                or self.names.get("nl") or self.code)


@dataclass(frozen=True)
class PlaceReading:
    """What a place mention may mean: one area code per reading (two when ambiguous)."""

    codes: tuple[str, ...]
    priority: int

    @property
    def ambiguous(self) -> bool:
        return len(self.codes) > 1


@dataclass
class Gazetteer:
    areas: dict[str, Area] = field(default_factory=dict)
    names: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    postal_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_name_tokens: int = 1
    _containing: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict, repr=False)
    _sounds: dict[str, list[str]] | None = field(default=None, repr=False)
    _name_langs: dict[str, set[str | None]] = field(default_factory=dict, repr=False)
    _sound_list: list[str] = field(default_factory=list, repr=False)

    # ---- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, data_dir: Path) -> Gazetteer:
        data_dir = Path(data_dir)
        gaz = cls()
        munis = _read(data_dir / "geo" / "be_municipalities.csv")
        levels = _read(data_dir / "geo" / "be_provinces_regions.csv")
        members: dict[str, set[str]] = {}
        communities: dict[str, set[str]] = {"DG": set(), "FWB": set(), "VG": set()}
        for row in munis:
            nis = row["nis_code"]
            region = REGION_NIS[row["region"]]
            for code in (row["arrondissement_nis"], row["province_code"], region, "BE"):
                if code:
                    members.setdefault(code, set()).add(nis)
            if row["community"] == "German-speaking":
                communities["DG"].add(nis)
            elif row["region"] == "VLG":
                communities["VG"].add(nis)
            elif row["region"] == "WAL":
                communities["FWB"].add(nis)
            else:  # Brussels belongs to both the French and the Flemish Community
                communities["FWB"].add(nis)
                communities["VG"].add(nis)
        for row in munis:
            names = {lang: row[f"name_{lang}"] for lang in ("fr", "nl", "de", "en")
                     if row[f"name_{lang}"]}
            gaz.areas[row["nis_code"]] = Area(row["nis_code"], "municipality", names,
                                              frozenset({row["nis_code"]}),
                                              row["arrondissement_nis"])
        for row in levels:
            names = {lang: row[f"name_{lang}"] for lang in ("fr", "nl", "de", "en")
                     if row[f"name_{lang}"]}
            gaz.areas[row["code"]] = Area(row["code"], row["level"], names,
                                          frozenset(members.get(row["code"], ())),
                                          row["parent_code"] or "BE")
        gaz.areas["BE"] = Area("BE", "country", {"fr": "Belgique", "nl": "België",
                                                 "de": "Belgien", "en": "Belgium",
                                                 "uk": "Бельгія"}, frozenset(members["BE"]))
        community_names = {
            "DG": {"fr": "Communauté germanophone", "nl": "Duitstalige Gemeenschap",
                   "de": "Deutschsprachige Gemeinschaft", "en": "German-speaking Community"},
            "FWB": {"fr": "Fédération Wallonie-Bruxelles", "nl": "Franse Gemeenschap",
                    "de": "Französische Gemeinschaft", "en": "French Community"},
            "VG": {"fr": "Communauté flamande", "nl": "Vlaamse Gemeenschap",
                   "de": "Flämische Gemeinschaft", "en": "Flemish Community"},
        }
        for community, covered in communities.items():
            gaz.areas[community] = Area(community, "community", community_names[community],
                                        frozenset(covered), "BE")
        gaz._load_names(munis, levels, data_dir)
        return gaz

    def _load_names(self, munis: list[dict[str, str]], levels: list[dict[str, str]],
                    data_dir: Path) -> None:
        self._load_municipality_names(munis)
        self._load_area_names(levels)
        self._load_postal_codes(munis, data_dir)
        for row in _read(data_dir / "vocabulary" / "exonyms.csv"):
            code = self.canonical(row["code"])
            if code is None:
                raise ValueError(f"exonyms.csv: unknown area code {row['code']!r}")
            level = self.areas[code].level
            self._add_name(row["name"], code,
                           MUNICIPALITY_NAME if level == "municipality" else AREA_NAME,
                           row["lang"])
        self._sound_index()

    def _load_municipality_names(self, munis: list[dict[str, str]]) -> None:
        for row in munis:
            for lang in ("fr", "nl", "de", "en"):
                if row[f"name_{lang}"]:
                    self._add_name(row[f"name_{lang}"], row["nis_code"], MUNICIPALITY_NAME, lang)
            for merged in filter(None, (row["merged_2025_from"] or "").split(";")):
                old_code, _, old_name = merged.strip().partition(" ")
                if old_code != row["nis_code"]:
                    self._add_name(old_name, row["nis_code"], LOCALITY_NAME)

    def _load_area_names(self, levels: list[dict[str, str]]) -> None:
        for row in levels:
            for lang in ("fr", "nl", "de", "en"):
                name = row[f"name_{lang}"]
                if not name:
                    continue
                self._add_name(name, row["code"], AREA_NAME, lang)
                lowered = name.lower()
                for prefix in _AREA_PREFIXES:
                    if lowered.startswith(prefix) and row["level"] == "province":
                        self._add_name(name[len(prefix):], row["code"], AREA_NAME, lang)

    def _load_postal_codes(self, munis: list[dict[str, str]], data_dir: Path) -> None:
        # The language a locality's own name is written in: that of its municipality.
        local_lang = {row["nis_code"]: "de" if row["community"] == "German-speaking" else
                      {"VLG": "nl", "WAL": "fr"}.get(row["region"]) for row in munis}
        for row in _read(data_dir / "geo" / "be_postal_codes.csv"):
            codes = tuple(sorted(filter(None, row["statbel_municipality_nis"].split(";"))))
            known = self.postal_codes.get(row["postal_code"], ())
            self.postal_codes[row["postal_code"]] = tuple(sorted(set(known) | set(codes)))
            for name, lang in ((row["locality_name"], local_lang.get(row["municipality_nis"])),
                               (row["locality_name_fr"], "fr")):
                if name:
                    self._add_name(name, row["municipality_nis"], LOCALITY_NAME, lang)
                    self._add_short_name(name, row["municipality_nis"])

    def _add_name(self, name: str, code: str, priority: int, lang: str | None = None) -> None:
        variants = {name, umlaut_variant(name) or name}
        for variant in list(variants):
            words = variant.split()
            if words and words[0].lower() in {"saint", "sint", "sankt"} or \
                    variant.lower().startswith(("saint-", "sint-", "sankt-")):
                variants.add("st " + variant.split("-", 1)[-1] if "-" in variant.split()[0]
                             else "st " + " ".join(words[1:]))
        for variant in variants:
            key = phrase(variant)
            if not key:
                continue
            self.names.setdefault(key, {}).setdefault(priority, set()).add(code)
            self._name_langs.setdefault(key, set()).add(lang if lang in {"fr", "nl", "de"}
                                                        else None)
            self.max_name_tokens = max(self.max_name_tokens, len(key.split()))

    def _add_short_name(self, name: str, code: str) -> None:
        words = tokens(name)
        for i, word in enumerate(words[1:], start=1):
            if word in _CONNECTORS:
                short = " ".join(words[:i])
                if len(short) >= 5:
                    self.names.setdefault(short, {}).setdefault(SHORT_NAME, set()).add(code)
                return

    # ---- codes and containment -----------------------------------------------------------
    def canonical(self, code: str) -> str | None:
        """`BE-WAL` → `03000`, `63000` → `63000`, `dg` → `DG`; None when unknown."""
        text = code.strip().upper()
        text = ISO_CODES.get(text, text)
        return text if text in self.areas else None

    def area(self, code: str) -> Area:
        return self.areas[code]

    def containing(self, code: str) -> tuple[tuple[str, int], ...]:
        """Every area containing `code` (itself included), most local first, with its rank."""
        cached = self._containing.get(code)
        if cached is None:
            cached = self._containing[code] = self._compute_containing(code)
        return cached

    def _compute_containing(self, code: str) -> tuple[tuple[str, int], ...]:
        area = self.areas[code]
        if area.level == "municipality":
            found = [c for c, a in self.areas.items() if code in a.municipalities]
        elif area.municipalities:
            # Whatever contains the area contains any one of its municipalities.
            sample = next(iter(area.municipalities))
            found = [c for c, _rank in self.containing(sample)
                     if area.municipalities <= self.areas[c].municipalities]
        else:
            found = [code]
        ranked = sorted(((c, self.areas[c].rank) for c in found),
                        key=lambda item: (item[1], len(self.areas[item[0]].municipalities),
                                          item[0]))
        return tuple(ranked)

    def overlaps(self, first: str, second: str) -> bool:
        return not self.areas[first].municipalities.isdisjoint(self.areas[second].municipalities)

    def label(self, code: str, lang: str = "en") -> str:
        area = self.areas.get(code)
        return area.name(lang) if area else code

    def municipality_codes(self) -> list[str]:
        return sorted(c for c, a in self.areas.items() if a.level == "municipality")

    # ---- place names ---------------------------------------------------------------------
    def lookup(self, key: str) -> PlaceReading | None:
        """A folded phrase or a postal code → its reading, or None."""
        if key.isdecimal():
            postal = self.postal_codes.get(key)
            return PlaceReading(postal, MUNICIPALITY_NAME) if postal else None
        by_priority = self.names.get(key)
        if not by_priority:
            return None
        best = min(by_priority)
        codes = set(by_priority[best])
        if best == MUNICIPALITY_NAME:
            # "Limburg": the municipality (Limbourg, province of Liège) or the province that
            # does not contain it — both readings. "Namur" the city lies in Namur province.
            for other in by_priority.get(AREA_NAME, ()):
                if all(code not in self.areas[other].municipalities for code in codes):
                    codes.add(other)
        return PlaceReading(tuple(sorted(codes)), best)

    # ---- Cyrillic place names --------------------------------------------------------------
    def cyrillic_place(self, words: list[str], approximate: bool = True) -> str | None:
        """Folded Cyrillic words ("брюсселі", "сінт ніклас") → the gazetteer name they sound
        like ("brussel", "sint niklaas"), or None. Case endings are tried off; a small edit
        distance on the sound key is allowed (none up to 3 letters, 1 up to 6, 2 up to 11,
        3 for the long compound names)."""
        if not words or not all(is_cyrillic(w) for w in words):
            return None
        joined = "".join(words)
        forms = [joined] + [joined[:-len(e)] for e in UK_ENDINGS
                            if joined.endswith(e) and len(joined) - len(e) >= 3]
        keys = list(dict.fromkeys(cyrillic_key(f) for f in forms))
        sounds = self._sound_index()
        for key in keys:
            if key in sounds:
                return self._best_name(sounds[key])
        for key in keys if approximate else ():
            allowed = 0 if len(key) <= 3 else 1 if len(key) <= 6 else 2 if len(key) <= 11 else 3
            if allowed:
                found = process.extractOne(key, self._sound_list, scorer=Levenshtein.distance,
                                           score_cutoff=allowed)
                if found:
                    return self._best_name(sounds[found[0]])
        return None

    def _best_name(self, names: list[str]) -> str:
        return min(names, key=lambda n: (min(self.names[n]), len(n), n))

    def _sound_index(self) -> dict[str, list[str]]:
        """Sound key → the Latin names that sound so; built on first use (Cyrillic queries)."""
        if self._sounds is None:
            sounds: dict[str, list[str]] = {}
            for name, by_priority in self.names.items():
                if min(by_priority) > LOCALITY_NAME or name.isdecimal() or is_cyrillic(name):
                    continue
                langs = self._name_langs.get(name) or {None}
                for key in frozenset().union(*(sound_keys(name, lang) for lang in langs)):
                    if len(key) >= 2:
                        sounds.setdefault(key, []).append(name)
            self._sounds = sounds
            self._sound_list = sorted(sounds)
        return self._sounds

def _read(path: Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
