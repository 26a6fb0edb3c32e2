"""Engagement: turn scored mentions into response tasks, one open task per conversation."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from collectors import repository as mention_repo
from collectors.models import Mention
from collectors.schemas import MentionRead
from core.errors import NotFoundError
from core.timeutil import utcnow
from engagement import repository, rules
from engagement.models import ResponseTask, TaskEvent, TaskStatus
from engagement.schemas import (
    EngageReport,
    TaskDetail,
    TaskEventRead,
    TaskMentionRead,
    TaskRead,
)
from sentiment import repository as sentiment_repo
from sentiment.schemas import SentimentRead

log = logging.getLogger(__name__)

SYSTEM = "system"


def engage_mentions(
    session: Session,
    mention_ids: list[int],
    *,
    negative_threshold: float = 0.5,
    thread_window_hours: int = 72,
    sla_minutes: dict[int, int] | None = None,
) -> EngageReport:
    """Open or extend tasks for the given unengaged mentions, then mark them engaged."""
    mentions = sorted(
        mention_repo.unengaged_mentions(session, mention_ids), key=lambda m: (m.created_at, m.id)
    )
    report = EngageReport(examined=len(mentions))
    if not mentions:
        return report
    results = sentiment_repo.latest_results(session, [m.id for m in mentions])
    customers = repository.customer_ids_for_authors(
        session, [m.author_id for m in mentions if m.author_id is not None]
    )
    sla = sla_minutes or {}
    window = timedelta(hours=thread_window_hours)
    for mention in mentions:
        if mention.is_brand:
            continue
        decision = rules.decide(
            mention, results.get(mention.id), negative_threshold=negative_threshold
        )
        key = rules.thread_key(mention)
        task = repository.open_task_for_thread(session, key)
        if task is None and decision.opens and mention.author_id is not None:
            task = repository.open_task_for_author(
                session, mention.author_id, mention.created_at - window
            )
        if task is not None:
            _attach(session, task, mention, decision)
            report.attached += 1
        elif decision.opens:
            task = _open(
                session, mention, decision, key, customers.get(mention.author_id or -1), sla
            )
            report.opened += 1
            report.opened_task_ids.append(task.id)
    mention_repo.mark_engaged(session, [m.id for m in mentions])
    return report


def engage_pending(
    session: Session,
    *,
    limit: int = 500,
    negative_threshold: float = 0.5,
    thread_window_hours: int = 72,
    sla_minutes: dict[int, int] | None = None,
) -> EngageReport:
    """Engage up to `limit` scored mentions that have not been engaged yet."""
    ids = sentiment_repo.scored_unengaged_ids(session, limit)
    return engage_mentions(
        session,
        ids,
        negative_threshold=negative_threshold,
        thread_window_hours=thread_window_hours,
        sla_minutes=sla_minutes,
    )


def _open(
    session: Session,
    mention: Mention,
    decision: rules.Decision,
    key: str,
    customer_id: int | None,
    sla: dict[int, int],
) -> ResponseTask:
    now = utcnow()
    task = repository.add_task(
        session,
        ResponseTask(
            thread_key=key,
            customer_id=customer_id,
            author_id=mention.author_id,
            status=TaskStatus.new.value,
            priority=decision.priority,
            reason=decision.reason,
            due_at=rules.due_at(now, decision.priority, sla),
            last_mention_at=mention.created_at,
            created_at=now,
            updated_at=now,
        ),
    )
    repository.add_task_mention(session, task.id, mention.id)
    repository.add_event(
        session,
        TaskEvent(
            task_id=task.id,
            actor=SYSTEM,
            type="opened",
            data={"reason": decision.reason, "mention_id": mention.id, "priority": task.priority},
        ),
    )
    return task


def _attach(
    session: Session, task: ResponseTask, mention: Mention, decision: rules.Decision
) -> None:
    repository.add_task_mention(session, task.id, mention.id)
    task.last_mention_at = max(task.last_mention_at, mention.created_at)
    data: dict[str, object] = {"mention_id": mention.id}
    if decision.opens and decision.priority < task.priority:
        data["priority"] = {"from": task.priority, "to": decision.priority}
        task.priority = decision.priority
    repository.add_event(
        session, TaskEvent(task_id=task.id, actor=SYSTEM, type="mention_added", data=data)
    )


def _mention_reads(session: Session, mentions: list[Mention]) -> list[TaskMentionRead]:
    results = sentiment_repo.latest_results(session, [m.id for m in mentions])
    out = []
    for mention in mentions:
        item = TaskMentionRead.model_validate(MentionRead.model_validate(mention).model_dump())
        result = results.get(mention.id)
        item.sentiment = SentimentRead.model_validate(result) if result else None
        out.append(item)
    return out


def _task_reads(session: Session, tasks: list[ResponseTask]) -> list[TaskRead]:
    by_task = repository.task_mentions(session, [t.id for t in tasks])
    mentions = _mention_reads(session, [tm.mention for tms in by_task.values() for tm in tms])
    by_id = {m.id: m for m in mentions}
    now = utcnow()
    out = []
    for task in tasks:
        read = TaskRead.model_validate(task)
        read.overdue = bool(
            task.due_at and task.first_response_at is None and task.due_at < now
        ) and task.status in ("new", "assigned")
        read.mentions = [by_id[tm.mention_id] for tm in by_task.get(task.id, [])]
        out.append(read)
    return out


def list_tasks(
    session: Session,
    *,
    status: str | None = "open",
    assignee: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[TaskRead], int]:
    """A page of tasks in inbox order, with their mentions and sentiment."""
    tasks, total = repository.list_tasks(
        session, status=status, assignee=assignee, limit=limit, offset=offset
    )
    return _task_reads(session, tasks), total


def get_task(session: Session, task_id: int) -> TaskDetail:
    """One task with its conversation and audit trail."""
    task = repository.get_task(session, task_id)
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    read = _task_reads(session, [task])[0]
    detail = TaskDetail.model_validate(read.model_dump())
    threads = {m.thread_id for m in read.mentions if m.thread_id}
    platform = read.mentions[0].platform if read.mentions else ""
    in_thread = mention_repo.thread_mentions(session, platform, sorted(threads))
    task_ids = {m.id for m in read.mentions}
    extra = [m for m in in_thread if m.id not in task_ids]
    detail.conversation = sorted(
        read.mentions + _mention_reads(session, extra), key=lambda m: (m.created_at, m.id)
    )
    detail.events = [
        TaskEventRead.model_validate(e) for e in repository.task_events(session, task_id)
    ]
    return detail


def status_counts(session: Session) -> dict[str, int]:
    """Tasks per status, for the inbox header."""
    return repository.status_counts(session)
