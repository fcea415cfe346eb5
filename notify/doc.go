// Package notify tells people and court systems what happened to a summons: an in-app inbox
// per user (chuting.Notice), e-mail through a configured SMTP server, and signed webhooks to a
// court's case-management system, with retries and a delivery log (chuting.Delivery).
//
// The scheduler calls Service.Handle after every stored change of a summons. Handle writes
// one Notice per recipient at once, queues the e-mails, and stores one pending Delivery per
// enabled webhook of the summons's court. It never waits for a mail server or a webhook
// receiver, so a slow one cannot slow a request down.
//
// # Who is told
//
// The law requires notice to both the institution and each appraiser (北京条例 art. 23;
// DOMAIN.md #3), and receipts to be logged (#4). So:
//   - a summons served: the institution's admins and each summoned appraiser's account;
//   - an appraiser's confirmation or request to be excused: the court's clerks and judges,
//     and the institution's admins;
//   - the court's decisions (excuse accepted or rejected, reschedule, cancel, the hearing's
//     start and outcome) and the server's scheduling: the summoned appraisers and the
//     institution's admins;
//   - a receipt: the court's clerks and judges;
//   - an absence without cause, once its follow-ups are opened (package attendance): the
//     institution's admins (its head answers too), the justice bureau's admins (who punish,
//     刑诉法解释 art. 99(3)) and the court's clerks and judges (who rule on the fee refund),
//     under the topic attendance.absent_without_cause. Its notices and webhook deliveries
//     have IDs derived from the fee-refund task, so telling it twice tells nobody twice.
//
// The user who took the step is not told of it, nor are disabled accounts. Notice topics are
// "summons." followed by the step: summons.served, summons.confirm, summons.decline,
// summons.accept_excuse, summons.reject_excuse, summons.schedule, summons.reschedule,
// summons.cancel, summons.start, summons.complete, summons.absent, summons.receipt.
//
// # E-mail
//
// With a MailConfig, each notice to a user with an e-mail address is also mailed (subject:
// the notice's title; body: its text, plain UTF-8). E-mails wait in a bounded in-memory queue
// that one worker, started by Run, empties. A full queue drops the e-mail, logs it and counts
// it (chuting_notify_mail_total{outcome="dropped"}). The queue is not persisted: the inbox is
// the record of every notice and survives restarts, and an e-mail is a courtesy copy of it, so
// losing one in a crash costs a reminder, not a notice; an outbox would also need a record
// kind of its own in the store contract. Failed sends are logged and counted, not retried.
//
// # Webhooks
//
// A court registers a URL (http or https) and receives a secret once. Every change of one of
// its summons is POSTed to it as JSON:
//
//	{"event": "summons.confirm", "delivery": "01j…", "time": "2026-12-08T02:00:00Z",
//	 "summons": {"id": "…", "version": 3, "case_no": "(2026)赣07民初123号", "state": "proposed",
//	             "slot": {"start": …, "end": …, "room_id": …, "appraiser_ids": […]}, …},
//	 "transition": {"action": "confirm", "from": "proposed", "to": "proposed", "by": …, …},
//	 "receipt": {…}}
//
// with the headers
//
//	Content-Type: application/json
//	X-Chuting-Event: summons.confirm
//	X-Chuting-Delivery: the delivery ID (the same on every retry of one delivery)
//	X-Chuting-Timestamp: Unix seconds when this attempt was sent
//	X-Chuting-Signature: sha256=HEX
//
// where HEX is the lower-case hex HMAC-SHA256, keyed with the webhook's secret, of the
// timestamp, a full stop and the raw body: HMAC(secret, X-Chuting-Timestamp + "." + body).
// A receiver verifies it by recomputing the HMAC over the body bytes as received (before any
// JSON parsing) and comparing in constant time; it should refuse a timestamp more than a few
// minutes from its own clock, so that a captured request cannot be replayed later, and ignore
// a delivery ID it has already processed, since delivery is at least once. Deliveries are
// not ordered (two due together go out in parallel, and a retry may follow a later event):
// summons.version, which grows with every change, tells the latest state.
//
// An answer 2xx within 10 seconds marks the delivery delivered. Anything else (another
// status, a refused connection, a timeout; redirects are not followed) records the status and
// error and schedules the next attempt: 30 s, 2 min, 10 min, 1 h and 6 h after each failure
// (Backoff), six attempts in all over about seven hours, after which the delivery is failed.
// Deliveries are records in the store, so pending ones survive a restart; RetryDue sends
// those that are due, and Run calls it every 30 s and whenever Handle adds some.
//
// Several nodes, or two calls of RetryDue, may race for one delivery: each claims it first by
// saving it (optimistic concurrency) with its next attempt moved past the call's timeout, and
// only the one whose save wins calls out. If a node dies during a call, the delivery is tried
// again once that lease has passed.
package notify
