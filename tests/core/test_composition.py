"""The composition root builds every part once, and the router does not import it."""
import subprocess
import sys
from dataclasses import fields

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from bot.trust.service import TrustService
from bot.web.access import WebAccess


def test_router_and_handlers_do_not_import_the_composition_root():
    code = ("import sys, bot.router, bot.handlers; "
            "print('bot.bootstrap' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_every_service_is_built(bot):
    services = bot.services
    missing = [f.name for f in fields(Services) if not hasattr(services, f.name)]
    assert missing == []
    assert isinstance(services.scheduler, AsyncIOScheduler)
    assert isinstance(services.trust, TrustService) and isinstance(services.web, WebAccess)
    # Web sessions are personal data: /mydata and /forget reach them through trust.
    assert "web" in services.trust.privacy.sources


def test_services_is_still_importable_from_the_composition_root():
    from bot.bootstrap import Services as Reexported

    assert Reexported is Services
