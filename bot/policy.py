"""Who may do what: the one policy table. Every command and every finer-grained action a
handler checks is listed here with the lowest role allowed; `/help` is rendered from it and
`tests/test_policy.py` runs every command as every role against it."""
from __future__ import annotations

from enum import IntEnum

from bot.i18n import N_


class Role(IntEnum):
    GUEST = 0
    STAFF = 1
    FOCAL_POINT = 2
    COORDINATOR = 3
    ADMIN = 4

    @property
    def code(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | None) -> Role | None:
        if not value:
            return None
        try:
            return cls[value.strip().upper().replace("-", "_")]
        except KeyError:
            return None


ROLE_LABELS = {
    Role.GUEST: N_("guest"),
    Role.STAFF: N_("staff"),
    Role.FOCAL_POINT: N_("focal point"),
    Role.COORDINATOR: N_("coordinator"),
    Role.ADMIN: N_("admin"),
}

G, S, F, C, A = Role.GUEST, Role.STAFF, Role.FOCAL_POINT, Role.COORDINATOR, Role.ADMIN

POLICY: dict[str, Role] = {
    # core
    "help": G, "lang": G, "whoami": G, "start": G, "role": A,
    # directory
    "who": G, "more": G, "entry": G, "stale": C, "incomplete": C, "verify": G, "import": C,
    "export_directory": C, "myentry": G, "changes": C, "revert": C, "approve": C, "reject": C,
    "complete_entries": C,
    "directory.personal_contacts": S,
    # reminders
    "remind": G, "meeting": C, "deadline": C, "reminders": G, "cancel": G, "skip": G, "edit": G,
    "acks": G, "ack": G, "broadcast": C, "calendar": G, "audience": C,
    "reminders.address_others": C, "reminders.manage_any": C,
    # meetings: participants add agenda points; the meeting's owner or a coordinator records
    "agenda": G, "decision": S, "action": S, "reassign": S, "actions": G, "done": G,
    "later": G, "notmine": G, "minutes": G, "meetings.record_any": C,
    # check-ins
    "results": C, "export": C, "away": F, "checkin": F, "rounds": C, "forms": C,
    # trust
    "invite": C, "link": S, "audit": A, "mydata": G, "forget": G,
    # Matrix device verification (bot/devices/): whose devices the bot trusts
    "verify_device": A,
    # web dashboard and data feed (bot/web): the pages check the same table as the chat
    "dashboard": C, "feed": A, "web.rounds": C, "web.directory": C, "web.reminders": C,
}


def allowed(role: Role, action: str) -> bool:
    """Unknown actions are refused: a command nobody listed is nobody's."""
    needed = POLICY.get(action)
    return needed is not None and role >= needed
