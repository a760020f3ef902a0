"""Job queues behind the `JobQueue` port.

arq on Redis (`arq_queue.ArqJobQueue`, imported only when REDIS_URL is set) and the in-process
queue of the embedded default (`InProcessJobQueue`, with `InProcessBackground` running the
periodic sweep and reminders in the bot's own process).
"""

from core.outbound.jobs.inprocess import InProcessBackground, InProcessJobQueue, PeriodicTask

__all__ = ["InProcessBackground", "InProcessJobQueue", "PeriodicTask"]
