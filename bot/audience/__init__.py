"""Audiences: who a reminder, a meeting, a deadline, a broadcast or a check-in round goes to,
written in the person's own words (docs/commands.md, AUDIENCE).

    "les points focaux du Hainaut, CPAS de Mons et OCMW Aalst"
    → ["role:focal_point&area:50000", "org:cpas-mons", "org:ocmw-aalst"]

`parse_audience` reads the text into *terms* (who × where), then into stored tokens: `all`,
`chat:KEY`, `user:ID`, `role:CODE`, `org:ID`, `area:CODE`, several joined by `&` when they narrow
each other. Tokens are resolved to people and chats only when a message is sent
(`AudienceResolver`), so someone who gets a role later is in the next occurrence.

Role words come from the tables below (five languages, both genders, singular and plural);
organisations and places from the directory (`services.directory`, passed in as `directory`):
its search index names organisations, its gazetteer names places, and a person is in a place
when the directory entry they stand for lies in it or covers all of it (DirectoryService.
home_entry, entry_in_place).
A word the parser cannot place raises AudienceError with the closest readings; nothing is
ever dropped. This package knows nothing of chat: `words` (the vocabulary), `terms` and
`grammar` (reading a text), `naming` (saying tokens back in words), `resolver` (to people)."""

from bot.audience.grammar import Grammar, parse_audience
from bot.audience.naming import (describe, find_organisation, only_self, organisation_name,
                                 recipients_line)
from bot.audience.resolver import BLOCKED, NO_DIRECT_CHAT, AudienceResolver, Recipient
from bot.audience.terms import AudienceError
from bot.audience.words import parse_role, role_names, split_role

__all__ = ["BLOCKED", "NO_DIRECT_CHAT", "AudienceError", "AudienceResolver", "Grammar",
           "Recipient", "describe", "find_organisation", "only_self", "organisation_name",
           "parse_audience", "parse_role", "recipients_line", "role_names", "split_role"]
