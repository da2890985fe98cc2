"""Background jobs: declared once by a domain, run by the in-process runner or by `kefu worker`.

How a domain declares a job and defers it (the whole contract):

    # kefu/<domain>/jobs.py  (list the module in kefu.jobs.registry.MODULES)
    from kefu.jobs import JobContext, job

    @job("channels.send_reply", queue="channels", retries=5)
    def send_reply(ctx: JobContext, *, message_id: int) -> None:
        ...  # ctx.session is the job's transaction; ctx.key is stable across retries

    @job("knowledge.expire", queue="maintenance", cron="5 * * * *")  # periodic, cron in UTC
    def expire(ctx: JobContext) -> None: ...

    # in a service, inside the request's transaction:
    from kefu import jobs
    jobs.defer(session, "channels.send_reply", message_id=m.id)

`defer` records a `job.deferred` event in the caller's transaction (the outbox): if the transaction
rolls back, nothing runs; once it commits, the job runs even if the process dies right after. Its
keyword arguments must be JSON values (ids, not objects: the job reads the current state itself).

Where it runs depends on the shape, never on the domain's code:

- embedded (`KEFU_JOB_QUEUE=inline`, the default): the server's runner thread (kefu.jobs.inline) runs
  deferred jobs when it dispatches events, in the same transaction as the event's consumption row,
  and periodic jobs when they are due (once per tick across processes: `periodic_runs`).
- scaled out (`KEFU_JOB_QUEUE=procrastinate`, PostgreSQL): `kefu worker` processes dispatch the outbox
  and turn each `job.deferred` into a procrastinate job (kefu.jobs.queue), which any worker serving the
  job's queue runs, with `retries` extra attempts (exponential backoff) if it raises.

Either way a run's database work commits together with a marker row (the event's consumption, or the
periodic tick), so a run that committed is never repeated: a retry after a crash finds the marker and
does nothing. Work outside the database (an SMS, a webhook) can still be repeated when a process dies
between sending and committing: hand `ctx.key` to the outside service as its idempotency key.
"""

from kefu.jobs.registry import JobContext, defer, job, last_tick

__all__ = ["JobContext", "defer", "job", "last_tick"]
