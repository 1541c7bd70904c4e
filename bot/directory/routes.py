"""A way to reach someone for every entry (issue 18, section 2), and the list of entries that
still lack one (`/incomplete`).

An entry "has a contact" when it carries a phone or an e-mail: a website alone does not reach a
person. For an entry without one, the best route is, in order: another entry of the same
municipality that has a contact (its population service, the municipality), then, for a
CPAS/OCMW/ÖSHZ, the federation of the centres of its region, then a federal helpdesk."""
from __future__ import annotations

from dataclasses import dataclass

from bot.directory.gazetteer import Gazetteer
from bot.directory.index import DirectoryIndex
from bot.directory.records import EntryRecord

# Federations of the centres per region (NIS code of the region → entry id).
FEDERATIONS = {"02000": "vlg-vvsg", "04000": "bru-brulocalis", "03000": "wal-uvcw-cpas"}
# Federal helpdesks, the last resort: Info-Ukraine answers the public, SPP IS the centres.
HELPDESKS = ("be-info-ukraine", "be-mi-is")
REGIONS = ("02000", "03000", "04000")
# Population per municipality is not in the bundled data; the largest cities come first by this
# order (Statbel figures as listed on the "most populous municipalities" page, 2020), the others
# follow by name. Source in data/directory/README.md.
LARGEST = ("11002", "44021", "52011", "62063", "21004", "21015", "21001", "31005", "92094",
           "24062", "21012", "53053", "21009", "41002", "12025", "21016", "58001", "71072",
           "46021", "34022")


@dataclass(frozen=True)
class Route:
    entry: EntryRecord
    kind: str  # "local", "federation" or "helpdesk"


def municipality_of(entry: EntryRecord, gazetteer: Gazetteer) -> str | None:
    """The one municipality a local entry covers, else None."""
    includes = [gazetteer.canonical(c) for c in entry.includes]
    if len(includes) == 1 and includes[0] and gazetteer.area(includes[0]).level == "municipality":
        return includes[0]
    return None


def region_of(municipality: str, gazetteer: Gazetteer) -> str | None:
    for region in REGIONS:
        if municipality in gazetteer.area(region).municipalities:
            return region
    return None


def contact_route(entry: EntryRecord, index: DirectoryIndex,
                  gazetteer: Gazetteer) -> Route | None:
    """Who to contact instead when `entry` has no phone or e-mail; None when it has one or
    when the directory holds no entry with a contact to send the reader to."""
    if entry.has_direct_contact:
        return None
    municipality = municipality_of(entry, gazetteer)
    if municipality:
        local = [other for other in index.entries if other.id != entry.id
                 and other.has_direct_contact and municipality_of(other, gazetteer) == municipality]
        local.sort(key=lambda other: (other.org_type != "municipal", other.id))
        if local:
            return Route(local[0], "local")
    if entry.org_type == "cpas" and municipality:
        federation = index.get(FEDERATIONS.get(region_of(municipality, gazetteer) or "", ""))
        if federation is not None and federation.has_direct_contact:
            return Route(federation, "federation")
    for helpdesk_id in HELPDESKS:
        helpdesk = index.get(helpdesk_id)
        if helpdesk is not None and helpdesk.has_direct_contact:
            return Route(helpdesk, "helpdesk")
    return None


def incomplete(index: DirectoryIndex, gazetteer: Gazetteer,
               area: str | None = None) -> list[tuple[str | None, list[EntryRecord]]]:
    """Active entries without a phone or e-mail, grouped by municipality (None: wider than one
    municipality), the largest municipalities first; only those inside `area` when given."""
    inside = gazetteer.area(area).municipalities if area else None
    groups: dict[str | None, list[EntryRecord]] = {}
    for entry in index.entries:
        if entry.has_direct_contact:
            continue
        municipality = municipality_of(entry, gazetteer)
        if inside is not None and not (municipality and municipality in inside):
            if municipality or not _within(entry, gazetteer, inside):
                continue
        groups.setdefault(municipality, []).append(entry)
    rank = {code: position for position, code in enumerate(LARGEST)}
    order = sorted(groups, key=lambda code: (code is None, rank.get(code or "", len(rank)),
                                             gazetteer.label(code) if code else ""))
    return [(code, sorted(groups[code], key=lambda e: e.id)) for code in order]


def _within(entry: EntryRecord, gazetteer: Gazetteer, inside: frozenset[str]) -> bool:
    covered: set[str] = set()
    for code in entry.includes:
        canonical = gazetteer.canonical(code)
        if canonical:
            covered |= gazetteer.area(canonical).municipalities
    return bool(covered) and covered <= inside
