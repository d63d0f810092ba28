"""Evidence a case needs from registers, obtained ex officio (ZUP art. 9 and 103).

The life of one piece of evidence (:class:`~salter.exchange.models.EvidenceRequest`):

1. **Submission** (:func:`.services.on_submitted`, in the submission's transaction): one
   request per evidence item of the definition that names a ``register_query``. The applicant
   who ticked the item's ``bring_field`` brings it personally (``brought``, nothing is asked);
   otherwise the request is ``pending``, due now, with the query's inputs taken from the form
   and the legal deadline of the register's answer (``SALTER_REGISTER_ANSWER_DAYS``, 15 days by
   law). After the commit the worker is nudged: a task is enqueued (and, on PostgreSQL,
   ``NOTIFY salter_exchange`` wakes ``salter exchange_worker``); the worker also polls.
2. **Asking** (:func:`.worker.ask_due`, run by ``salter exchange_worker``, the task and the
   clock): a due request is *claimed* in a short transaction — on PostgreSQL read ``FOR UPDATE
   SKIP LOCKED``, so concurrent workers never wait for each other — by moving its
   ``next_attempt_at`` to the end of a lease that outlasts one query. The register is asked
   **outside any transaction** (:func:`salter.exchange.client.ask`, which waits on the
   network). The outcome is saved in a second transaction by a conditional UPDATE that still
   expects the lease it claimed: a worker whose lease ran out, or a request an official
   settled meanwhile, saves nothing.

   * an answer: ``answered`` (the data in ``answer``) or ``not_found``, with the exchange
     message linked, a timeline event the applicant sees and an audit event;
   * no answer worth waiting for (down, slow, unreadable: ``RegisterError(retry=True)``):
     attempts + 1, the error kept in ``last_error``, asked again after an exponential backoff
     from ``SALTER_REGISTER_RETRY_SECONDS`` (at most six hours, never past the deadline); once
     the deadline has passed, ``escalated``: an internal timeline event and a notification to
     the case's clerks, who decide how to obtain the evidence;
   * a refusal that will not change (``RegisterError(retry=False)``): ``escalated`` at once.

   **Nothing is lost.** The request row holds everything the query needs. A worker that dies
   between the register's answer and the save leaves the request ``pending`` under its lease;
   when the lease runs out any worker asks again. The register then sees the same query twice,
   each with a request id of its own (every attempt is a new exchange message with a new
   ``request_id``): registers answer queries, they change nothing, so a repeat is harmless,
   and both exchanges are in both sides' message logs.
3. **The official decides** (:func:`.services.ask_again`, :func:`.services.applicant_brings`,
   :func:`.services.decide_without`): a clerk or head of unit of the case's authority settles
   an escalated (or unfound) piece of evidence.

A workflow step with ``"requires_evidence": true`` is refused while any request of the case is
``pending`` or ``escalated`` (:func:`.events.awaited`, the gate the exchange registers with the
case engine in :mod:`salter.exchange.listeners`).

The modules, bottom up:

* :mod:`.items` — what a definition's evidence items are, and the registers that answer them;
* :mod:`.events` — a piece of evidence on the case's timeline: the event, its text, the gate;
* :mod:`.worker` — asking the registers: claim under a lease, ask, save, retry, escalate;
* :mod:`.services` — the use cases: the submission's requests and the official's decisions;
* :mod:`.panel` — what a case page shows of its evidence.

This package imports none of them: ``salter.exchange.tasks`` runs the worker and the use cases
enqueue its task, so a package that imported the use cases would import itself in a circle.
Import the module you need (``from salter.exchange.evidence import worker``).
"""
