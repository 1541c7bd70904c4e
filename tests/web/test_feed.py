"""The live feed: per-consumer tokens made and revoked by admins in the chat; public columns
and aggregates only; ETag/Last-Modified, gzip, a per-token rate limit."""
from __future__ import annotations

import csv
import gzip
import io
import re

from sqlalchemy import select

from bot.web.models import FeedToken
from tests.checkins.conftest import register
from tests.web.conftest import monthly_round

TOKEN = re.compile(r"\b([0-9a-f]{64})\b")


async def new_token(bot, name: str) -> str:
    answer = await bot.ask(f"/feed new {name}", as_="alice")
    return TOKEN.search(answer).group(1)


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


async def load_directory(bot) -> None:
    csv_text = ("id,organisation,topics,coverage,contact_name,email,phone,matrix\r\n"
                "x-1,CPAS de Namur,housing,92094,,info@cpas.example,,\r\n"
                "x-2,Ville de Namur,social_aid,92094,Jeanne Dupont,jd@ville.example,"
                "+32 81 11 11 11,@jd:ville.example\r\n")
    async with bot.services.db.transaction() as session:
        assert (await bot.services.directory.import_file(session, csv_text.encode())).applied
    async with bot.services.db.session() as session:
        await bot.services.directory.refresh(session)


async def test_only_admins_make_tokens_and_a_revoked_token_is_refused(web_bot):
    await register(web_bot, ["cora"], role="coordinator")
    assert "not available to you" in await web_bot.ask("/feed new powerbi", as_="cora")
    token = await new_token(web_bot, "powerbi")
    assert "exists already" in await web_bot.ask("/feed new powerbi", as_="alice")
    assert "powerbi" in await web_bot.ask("/feed", as_="alice")
    assert "1 to 60" in await web_bot.ask("/feed new bad/name", as_="alice")
    async with web_bot.services.db.session() as session:
        stored = await session.scalar(select(FeedToken.token_hash))
    assert stored != token and len(stored) == 64

    assert (await web_bot.client.get("/feed/directory.csv")).status == 401
    assert (await web_bot.client.get("/feed/directory.csv?token=" + "0" * 64)).status == 401
    ok = await web_bot.client.get("/feed/directory.csv",
                                  headers={"Authorization": f"Bearer {token}"})
    assert ok.status == 200
    assert "revoked" in await web_bot.ask("/feed revoke powerbi", as_="alice")
    assert (await web_bot.client.get(f"/feed/directory.csv?token={token}")).status == 401
    again = await new_token(web_bot, "powerbi")      # a revoked name may be used again
    assert (await web_bot.client.get(f"/feed/directory.csv?token={again}")).status == 200


async def test_directory_feed_public_columns_hxl_etag_gzip(web_bot):
    await load_directory(web_bot)
    token = await new_token(web_bot, "hxlproxy")
    response = await web_bot.client.get(f"/feed/directory.csv?token={token}",
                                        headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.headers["Content-Encoding"] == "gzip"
    body = await response.read()           # the client inflates it
    rows = rows_of(body)
    header, tags = rows[0], rows[1]
    assert tags[0] == "#meta+id" and all(tag.startswith("#") for tag in tags)
    assert "contact_name" not in header and "matrix" not in header
    text = body.decode()
    assert "info@cpas.example" in text                     # an organisation's own channel
    assert "Jeanne" not in text and "jd@ville.example" not in text and "@jd:" not in text
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]

    same = await web_bot.client.get(f"/feed/directory.csv?token={token}",
                                    headers={"If-None-Match": etag})
    assert same.status == 304 and not await same.read()
    since = await web_bot.client.get(f"/feed/directory.csv?token={token}",
                                     headers={"If-Modified-Since": modified})
    assert since.status == 304
    plain = await web_bot.client.get(f"/feed/directory.csv?token={token}",
                                     headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and rows_of(await plain.read()) == rows
    assert gzip.decompress(web_bot.dashboard._directory_feed[1].gzipped) == body


async def test_rounds_feed_has_aggregates_and_no_names_or_texts(web_bot):
    await monthly_round(web_bot, {"olga": ("1", 1000), "piet": ("2", 2500)}, silent=["rita"])
    token = await new_token(web_bot, "analyst")
    response = await web_bot.client.get(f"/feed/rounds/monthly_regional.csv?token={token}")
    assert response.status == 200
    text = (await response.read()).decode()
    rows = rows_of(text.encode())
    assert rows[1][0] == "#meta+form"
    figures = {(r[3], r[5], r[6]): r[7] for r in rows[2:]}
    assert figures[("_responses", "", "assigned")] == "3"
    assert figures[("_responses", "", "submitted")] == "2"
    assert figures[("residents", "", "total")] == "3500"
    for private in ("olga", "piet", "rita", "ok"):
        assert f",{private}," not in text and f",{private}\r" not in text
    assert (await web_bot.client.get(f"/feed/rounds/nope.csv?token={token}")).status == 404
    etag = response.headers["ETag"]
    again = await web_bot.client.get(f"/feed/rounds/monthly_regional.csv?token={token}",
                                     headers={"If-None-Match": etag})
    assert again.status == 304


async def test_each_token_has_its_own_rate_limit(web_bot):
    first, second = await new_token(web_bot, "one"), await new_token(web_bot, "two")
    statuses = [(await web_bot.client.get(f"/feed/directory.csv?token={first}")).status
                for _ in range(6)]
    assert statuses == [200] * 5 + [429]      # 5 a minute in these tests
    assert (await web_bot.client.get(f"/feed/directory.csv?token={second}")).status == 200
