"""Cursor pagination: `.list()` gives one page, `.iter()` walks every page lazily."""

from __future__ import annotations

import asyncio
from typing import List, Optional

import pytest

import miosa_native

from conftest import Emulator


def walk_by_hand(admin: miosa_native.Client) -> List[Optional[str]]:
    ids: List[Optional[str]] = []
    cursor = None
    while True:
        page = admin.audit_log.list(limit=2, cursor=cursor)
        ids += [entry.id for entry in page]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def test_one_page(admin: miosa_native.Client) -> None:
    page = admin.audit_log.list(limit=2)
    assert isinstance(page, miosa_native.Page)
    assert len(page) == 2 and len(page.items) == 2
    assert all(isinstance(entry, miosa_native.AuditEntry) for entry in page)
    assert page.has_more and page.next_cursor
    assert isinstance(page[0], miosa_native.AuditEntry)
    following = admin.audit_log.list(limit=2, cursor=page.next_cursor)
    assert {e.id for e in following}.isdisjoint({e.id for e in page})
    assert "next_cursor=" in repr(page)
    # The generic spelling of the stubs works at runtime too.
    assert miosa_native.Page[miosa_native.AuditEntry].__origin__ is miosa_native.Page
    assert miosa_native.Pager[dict].__origin__ is miosa_native.Pager


def test_iter_follows_every_cursor_lazily(fresh: Emulator, admin: miosa_native.Client) -> None:
    expected = walk_by_hand(admin)
    assert len(expected) > 4, "the fixture audit log should span several pages"
    before = len(fresh.requests("/api/v1/audit-log"))
    entries = admin.audit_log.iter(limit=2)
    assert len(fresh.requests("/api/v1/audit-log")) == before, "iter() must not fetch before iteration"
    first = [next(entries) for _ in range(3)]
    assert len(fresh.requests("/api/v1/audit-log")) == before + 2
    rest = list(entries)
    ids = [e.id for e in first + rest]
    assert ids == expected
    assert len(set(ids)) == len(ids)
    assert all(isinstance(e, miosa_native.AuditEntry) for e in first + rest)


def test_iter_starts_at_a_given_cursor(admin: miosa_native.Client) -> None:
    first = admin.audit_log.list(limit=2)
    rest = [e.id for e in admin.audit_log.iter(limit=2, cursor=first.next_cursor)]
    assert rest == walk_by_hand(admin)[2:]


def test_errors_surface_during_iteration(client: miosa_native.Client) -> None:
    entries = client.audit_log.iter(limit=2)
    with pytest.raises(miosa_native.PermissionDeniedError):
        next(entries)
    with pytest.raises(StopIteration):
        next(entries)


def test_every_pager_yields_models(admin: miosa_native.Client, client: miosa_native.Client) -> None:
    tenants = list(admin.admin.tenants.iter(limit=1))
    assert len(tenants) >= 2 and all(isinstance(t, miosa_native.Tenant) for t in tenants)
    hooks = list(client.webhooks.iter(limit=1))
    assert all(isinstance(h, miosa_native.Webhook) for h in hooks)


def test_async_pagination(fresh: Emulator, admin: miosa_native.Client) -> None:
    expected = walk_by_hand(admin)

    async def run() -> None:
        client = miosa_native.AsyncClient(fresh.admin_key, base_url=fresh.base_url, max_retries=0)
        page = await client.audit_log.list(limit=2)
        assert isinstance(page, miosa_native.Page) and page.next_cursor
        ids = [entry.id async for entry in client.audit_log.iter(limit=2)]
        assert ids == expected
        user = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        with pytest.raises(miosa_native.PermissionDeniedError):
            async for _ in user.audit_log.iter():
                pass

    asyncio.run(run())


def test_page_numbered_lists_walk_every_page(client: miosa_native.Client, fresh: Emulator) -> None:
    for i in range(3):
        client.sandboxes.create(name=f"billed-{i}")
    everything = [s.id for s in client.usage.sessions_iter()]
    assert len(everything) >= 3
    per_page = -(-len(everything) // 3)  # exactly three pages
    first = client.usage.sessions(per_page=per_page)
    assert first.next_cursor == "2" and len(first) == per_page
    walked = [s.id for s in client.usage.sessions_iter(per_page=per_page)]
    assert walked == everything, "every page, in order, nothing twice"
    pages = [r["query"].get("page") for r in fresh.requests("/api/v1/usage/sessions")[-3:]]
    assert pages == [None, "2", "3"], pages


def test_next_page_follows_the_cursor_and_ends_with_none(admin: miosa_native.Client) -> None:
    expected = walk_by_hand(admin)
    page: Optional[miosa_native.Page[miosa_native.AuditEntry]] = admin.audit_log.list(limit=2)
    ids: List[Optional[str]] = []
    pages = 0
    while page is not None:
        ids += [entry.id for entry in page]
        pages += 1
        assert pages <= len(expected), "next_page() must end"
        page = page.next_page()
    assert ids == expected and pages >= 3


def test_iter_pages_walks_whole_pages_and_close_ends_a_walk(admin: miosa_native.Client) -> None:
    expected = walk_by_hand(admin)
    pages = list(admin.audit_log.iter(limit=2).iter_pages())
    assert all(isinstance(p, miosa_native.Page) and 0 < len(p) <= 2 for p in pages)
    assert [e.id for p in pages for e in p] == expected
    assert pages[-1].next_cursor is None and pages[-1].next_page() is None
    # A page from the walk can continue on its own.
    assert [e.id for e in pages[0].next_page() or []] == [e.id for e in pages[1]]

    entries = admin.audit_log.iter(limit=2)
    next(entries)
    assert not entries.closed
    entries.close()
    assert entries.closed and list(entries) == []
    assert entries.next_page() is None


def test_page_numbered_pages_one_by_one(client: miosa_native.Client) -> None:
    for i in range(3):
        client.sandboxes.create(name=f"paged-{i}")
    total = len(list(client.usage.sessions_iter()))
    per_page = -(-total // 3)
    pages = list(client.usage.sessions_iter(per_page=per_page).iter_pages())
    assert len(pages) == 3 and sum(len(p) for p in pages) == total
    third = client.usage.sessions(per_page=per_page, cursor="3")
    assert [s.id for s in third] == [s.id for s in pages[2]] and third.next_page() is None


def test_async_pages_and_aclose(fresh: Emulator, admin: miosa_native.Client) -> None:
    expected = walk_by_hand(admin)

    async def run() -> None:
        client = miosa_native.AsyncClient(fresh.admin_key, base_url=fresh.base_url, max_retries=0)
        ids: List[Optional[str]] = []
        page: Optional[miosa_native.Page[miosa_native.AuditEntry]] = await client.audit_log.list(limit=2)
        while page is not None:
            ids += [e.id for e in page]
            page = await page.anext_page()
        assert ids == expected
        walked = [e.id async for p in client.audit_log.iter(limit=2).iter_pages() for e in p]
        assert walked == expected
        async with client.audit_log.iter(limit=2) as entries:
            async for _ in entries:
                break
        assert entries.closed
        rest = client.audit_log.iter(limit=2)
        first = await rest.next_page()
        assert first is not None and len(first) == 2
        await rest.aclose()
        assert [e async for e in rest] == []

    asyncio.run(run())
