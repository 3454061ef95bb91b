"""The bot on a collection shared through `chroma run` (issue 12): /sources reads the server,
so it lists another machine's ingest and an ingest that was killed part-way. Machines A and C
are other processes (tests/fakes/machine.py); only the server is shared with the bot."""

from __future__ import annotations

import time
import uuid

from bot_helpers import ADMIN, ALICE, CLAIMS, texts
from fakes.chroma_server import chroma_server  # noqa: F401 (fixture)
from fakes.machine import Machine

from factcheck.retrieval import Document

NOTES = [Document(f"note-{i}", f"Field note {i}: the glacier retreated {i * 7} metres.",
                  title=f"Note {i}") for i in range(5)]


def test_sources_lists_another_machines_ingest_and_one_killed_part_way(
    start_bot, telegram_server, chroma_server, tmp_path  # noqa: F811
):
    collection = f"bot-{uuid.uuid4().hex[:10]}"
    start_bot(chroma_host=chroma_server.host, chroma_port=chroma_server.port,
              collection=collection, sync_interval=3600)
    with Machine(tmp_path / "a", chroma_server, collection) as machine_a:
        machine_a.ingest(NOTES[:1])  # while the bot runs
    with Machine(tmp_path / "c", chroma_server, collection) as machine_c:
        machine_c.ingest_and_hang(NOTES[1:], "factcheck ingest /srv/notes", batch_chunks=2)
        machine_c.kill()
    telegram_server.send_command(ADMIN, ADMIN, "sources")
    text = telegram_server.wait_for_text(ADMIN, "The collection holds")["text"]
    assert "3 source(s) in 3 passage(s)" in text and "Note 0" in text and "Note 2" in text
    assert "an ingest stopped part-way: 'factcheck ingest /srv/notes'" in text
    assert "wrote 2 of 4 document(s)" in text


def _wait_count(telegram_server, chat_id: int, needle: str, count: int,
                timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while texts(telegram_server, chat_id).count(needle) < count:
        assert time.monotonic() < deadline, f"{needle!r} not shown {count} times in {chat_id}"
        time.sleep(0.1)


def test_the_bot_says_the_collection_is_unavailable_and_serves_the_rest_until_it_is_back(
    start_bot, telegram_server, stoppable_chroma, tmp_path
):
    server = stoppable_chroma.server
    with Machine(tmp_path / "a", server, "desk") as machine_a:
        machine_a.ingest([Document("ferry", CLAIMS[0])])
    stoppable_chroma.stop()  # down before the bot starts: it starts all the same
    start_bot(chroma_host=server.host, chroma_port=server.port, collection="desk",
              sync_interval=0)
    unavailable = "The collection of trusted sources is unavailable right now"
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    _wait_count(telegram_server, ALICE, unavailable, 1)
    telegram_server.send_command(ALICE, ALICE, "help")  # everything else is served
    telegram_server.wait_for_text(ALICE, "I check the claims")
    stoppable_chroma.start()
    telegram_server.send_text(ALICE, ALICE, CLAIMS[0])
    telegram_server.wait_for_text(ALICE, CLAIMS[0], timeout=60)  # the report, checked now
    stoppable_chroma.stop()  # goes away while the bot runs
    telegram_server.send_text(ALICE, ALICE, CLAIMS[1])
    _wait_count(telegram_server, ALICE, unavailable, 2)
    telegram_server.send_command(ADMIN, ADMIN, "sources")
    _wait_count(telegram_server, ADMIN, unavailable, 1)
    assert "went wrong" not in texts(telegram_server, ALICE) + texts(telegram_server, ADMIN)
