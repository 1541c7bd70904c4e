"""Who a round asks: its stored audience read into people (focal points and above) with the
direct chat each is asked in, and each person's region for `area:` audiences and the
per-region breakdown."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience import AudienceResolver
from bot.checkins.forms import Form
from bot.checkins.models import CheckinAssignment
from bot.messages import ChatRef
from bot.people import Identity, People, User
from bot.policy import Role

if TYPE_CHECKING:
    from bot.directory.service import DirectoryService

# Provinces and the German-speaking Community inside the regions, so that `area:BE-WAL`
# reaches a focal point whose last answer placed them in Liège province.
AREA_PARENTS = {
    "BE-VAN": "BE-VLG", "BE-VLI": "BE-VLG", "BE-VOV": "BE-VLG", "BE-VBR": "BE-VLG",
    "BE-VWV": "BE-VLG", "BE-WBR": "BE-WAL", "BE-WHT": "BE-WAL", "BE-WLG": "BE-WAL",
    "BE-WLX": "BE-WAL", "BE-WNA": "BE-WAL", "DG": "BE-WLG",
}
PLATFORMS = {"console", "telegram", "matrix"}
BATCH = 500  # ids per IN (...) query


@dataclass
class Recipient:
    user: User
    chat_key: str | None


def area_contains(area: str, code: str | None) -> bool:
    seen = 0
    while code and seen < 5:
        if code == area or (area == "BE"):
            return True
        code, seen = AREA_PARENTS.get(code), seen + 1
    return False


class Recipients:
    def __init__(self, people: People, directory: DirectoryService | None = None):
        self.people = people
        # The directory places people in areas (`area:` audiences, regions); None when the
        # directory is not available.
        self.directory = directory

    async def resolve(self, session: AsyncSession, audience: str,
                      platform: str = "console") -> list[Recipient]:
        """The people a round's stored audience asks (tokens of bot/audience.py joined by
        commas; rounds stored before it may hold `@user` items). Only focal points and above
        are asked."""
        tokens = []
        for item in [part.strip() for part in audience.split(",") if part.strip()]:
            if item.startswith("@") or item.partition(":")[0] in PLATFORMS:
                user = await self.people.find(session, item, platform)
                item = f"user:{user.id}" if user is not None else ""
            tokens.append(item)
        resolver = AudienceResolver(session, self.directory,
                                    lambda area, placed: self._unplaced_in(session, area, placed))
        users = {user.id: user for user in await resolver.people(tokens)
                 if user.role >= Role.FOCAL_POINT}
        chats = await self._direct_chats(session, list(users))
        return [Recipient(user, chats.get(user_id)) for user_id, user in sorted(users.items())]

    async def _unplaced_in(self, session: AsyncSession, area: str, placed: set[int]) -> set[int]:
        """People the directory does not place count by the region of their latest answer."""
        return {user_id for user_id, region in (await self.known_regions(session)).items()
                if user_id not in placed and self._region_within(region, area)}

    def _region_within(self, region: str, area: str) -> bool:
        if self.directory is not None and self.directory.area_code(region) is not None:
            return self.directory.area_within(region, area)
        return area_contains(area.upper(), region)

    async def regions_of(self, session: AsyncSession, form: Form,
                         users: list[User]) -> dict[int, str]:
        """Each person's region for the per-region breakdown, as one of the form's region
        choices: the most local choice their directory entry lies in, else the region of their
        latest answer. (A person's answer in the round itself comes first; see summary.py.)"""
        regions = await self.known_regions(session, [user.id for user in users])
        question = form.region_question
        if self.directory is None or question is None:
            return regions
        choices = [option.name for option in question.options]
        for user in users:
            entry = self.directory.home_entry(user.entry_id, user.organisation_id)
            found = self.directory.entry_area(entry, choices) if entry else None
            if found is not None:
                regions[user.id] = found
        return regions

    async def _direct_chats(self, session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
        chats: dict[int, str] = {}
        for start in range(0, len(user_ids), BATCH):
            rows = await session.execute(
                select(Identity.user_id, Identity.platform, Identity.direct_chat_id)
                .where(Identity.user_id.in_(user_ids[start:start + BATCH]),
                       Identity.direct_chat_id.is_not(None))
                .order_by(Identity.id))
            for user_id, platform, chat_id in rows:
                if chat_id is not None:
                    chats.setdefault(user_id, ChatRef(platform, chat_id).key())
        return chats

    async def known_regions(self, session: AsyncSession,
                            user_ids: list[int] | None = None) -> dict[int, str]:
        """Each person's region as given in their latest submitted answer (a form's region
        question), for `area:` audiences and per-region counts of non-responders."""
        query = (select(CheckinAssignment.user_id, CheckinAssignment.region)
                 .where(CheckinAssignment.region.is_not(None))
                 .order_by(CheckinAssignment.submitted_at))
        if user_ids is not None:
            query = query.where(CheckinAssignment.user_id.in_(user_ids))
        return {user_id: region for user_id, region in await session.execute(query)
                if region is not None}
