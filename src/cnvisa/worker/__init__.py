"""The background side (issue 12, docs/jobs.md): the job registry (``registry``), the job functions (``jobs``)
and ``cnvisa worker``'s runner (``runner``) — pgqueuer on PostgreSQL, its in-memory queue in process on SQLite.

Beside ``cnvisa.app`` in the layers (neither imports the other): a worker serves no HTTP and the web runs no
jobs; both sit on the case core and the store. Enqueueing in a caller's transaction is the store's
(``cnvisa.store.queue.enqueue``), so the case core may enqueue without importing this package."""
