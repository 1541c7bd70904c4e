"""`Services`: everything a handler may use, reached as `ctx.services.<name>`.

Built once by `bot.bootstrap.build_app`. The core parts exist before the bag does and are
constructor arguments; each domain service is made by its `_wire_<domain>` function in
bot/bootstrap.py from the parts built before it, and set on the bag right after. A domain
field is therefore typed with its concrete service (never Optional): reading one before
`build_app` has set it is a programming error, and raises AttributeError."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.checkins.service import CheckinsService
    from bot.clock import Clock
    from bot.config import Settings
    from bot.conversations import Conversations
    from bot.devices import DeviceVerifications
    from bot.db import Database
    from bot.directory.service import DirectoryService
    from bot.i18n import Catalogues
    from bot.meetings.service import MeetingsService
    from bot.outbox import Outbox
    from bot.people import People
    from bot.reminders.service import RemindersService
    from bot.router import Router
    from bot.transports.base import Transports
    from bot.trust.service import TrustService
    from bot.web.access import WebAccess

# Run at start-up (under the set-up lock, after the migrations) and at shutdown, in order.
Hook = Callable[["Services"], Awaitable[None]]


@dataclass
class Services:
    """Everything a handler may use, reached as `ctx.services.<name>`."""

    settings: Settings
    db: Database
    catalogues: Catalogues
    clock: Clock
    people: People
    conversations: Conversations
    transports: Transports
    outbox: Outbox
    # Jobs are derived from the database at start-up (stable ids); no persistent job store.
    scheduler: AsyncIOScheduler
    router: Router
    startup_hooks: list[Hook] = field(default_factory=list)
    shutdown_hooks: list[Hook] = field(default_factory=list)
    # Domain services, set by build_app in this order (a later one may use an earlier one).
    trust: TrustService = field(init=False)
    directory: DirectoryService = field(init=False)
    reminders: RemindersService = field(init=False)
    checkins: CheckinsService = field(init=False)
    web: WebAccess = field(init=False)
    meetings: MeetingsService = field(init=False)
    # Matrix device verifications waiting for an admin (bot/devices/).
    devices: DeviceVerifications = field(init=False)
