package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Event is one alert: something an operator may want to know about —
// a budget soft limit crossed, a traffic spike throttled, a provider
// credential disabled. Events are appended, never updated.
//
// Like audit entries, events are never refused for their text: invalid
// UTF-8 and NUL become U+FFFD, and text is cut at a UTF-8 character
// boundary to MaxShortText bytes (Kind, Subject), MaxEventMessage
// (Message), MaxMetadataKey (a Detail key) or MaxEventDetail (a Detail
// value). Neither Message nor Detail may hold a secret: they are shown
// to every admin who may read the subject.
type Event struct {
	ID int64 // assigned by the store, increasing; ignored by InsertEvent
	// Time is when it happened (UTC, microseconds); InsertEvent stamps a
	// zero Time with the store's clock.
	Time time.Time
	// Kind says what happened, dotted: "budget.soft_limit",
	// "budget.exceeded", "traffic.spike", "credential.disabled", …
	// Required.
	Kind string
	// Severity is SeverityInfo, SeverityWarning or SeverityCritical; ""
	// means SeverityWarning.
	Severity string
	// Subject names what it happened to: "key:<id>", "team:<id>",
	// "tenant:<id>", "ip:<addr>", "credential:<id>"; "" for the gateway
	// as a whole.
	Subject string
	// Message is one human sentence.
	Message string
	// Detail says more, in a few small values; empty reads back nil.
	Detail map[string]string
}

// Event severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Bounds of Event text, in bytes.
const (
	MaxEventMessage = 1024
	MaxEventDetail  = 1024
	// maxEventSubjects bounds EventFilter.Subjects.
	maxEventSubjects = 10_000
)

// EventFilter selects events. Zero fields do not filter; text is cut
// like Event's before it is compared.
type EventFilter struct {
	Kind, Subject string // exact matches
	// Subjects, when not nil, keeps only events whose subject is one of
	// them (an empty, non-nil list matches nothing). At most 10,000.
	// It narrows Subject further when both are set.
	Subjects []string
	From, To time.Time // From inclusive, To exclusive
	Limit    int       // page size: 0 means 50, more than 1,000 means 1,000
	Cursor   string    // continues after a previous page's last event
}

// eventColumns are events' columns but id, in the order InsertEvent
// writes them.
const eventColumns = "time_us, kind, severity, subject, message, detail"

// InsertEvent stores e and returns it as stored: with its ID, its Time
// (the store's clock when zero, in UTC, cut to microseconds), its
// Severity defaulted and its text cleaned and cut. An empty Kind or an
// unknown Severity fails with an error wrapping ErrBadRecord. e's Detail
// is not modified nor retained.
func (db *DB) InsertEvent(ctx context.Context, e Event) (Event, error) {
	e.Kind = shortText(e.Kind)
	if e.Kind == "" {
		return Event{}, fmt.Errorf("store: insert event: %w: kind is empty", ErrBadRecord)
	}
	switch e.Severity {
	case "":
		e.Severity = SeverityWarning
	case SeverityInfo, SeverityWarning, SeverityCritical:
	default:
		return Event{}, fmt.Errorf("store: insert event: %w: severity %q is not info, warning or critical",
			ErrBadRecord, cutText(e.Severity, 32))
	}
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	e.Time = time.UnixMicro(e.Time.UnixMicro()).UTC()
	e.Subject = shortText(e.Subject)
	e.Message = cutText(e.Message, MaxEventMessage)
	var detail map[string]string
	if len(e.Detail) > 0 {
		detail = make(map[string]string, len(e.Detail))
		// Keys in byte order: of keys equal once cut, the first wins.
		for _, k := range slices.Sorted(maps.Keys(e.Detail)) {
			ck := cutText(k, MaxMetadataKey)
			if _, dup := detail[ck]; !dup {
				detail[ck] = cutText(e.Detail[k], MaxEventDetail)
			}
		}
	}
	e.Detail = detail

	s := db.d.stmt().sql("INSERT INTO events (" + eventColumns + ") VALUES ").
		list([]any{e.Time.UnixMicro(), e.Kind, e.Severity, e.Subject, e.Message, mapColumn(detail)}).
		sql(" RETURNING id")
	if err := db.w.QueryRowContext(ctx, s.String(), s.args...).Scan(&e.ID); err != nil {
		return Event{}, fmt.Errorf("store: insert event: %w", markBadRecord(err))
	}
	return e, nil
}

// ListEvents returns the events matching f, newest first (Time desc,
// then ID desc), and a cursor for the next page, empty after the last. A
// cursor this store did not issue fails with an error wrapping
// ErrBadCursor; a negative Limit, a To before From or more than 10,000
// Subjects with one wrapping ErrBadQuery.
func (db *DB) ListEvents(ctx context.Context, f EventFilter) ([]Event, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", fmt.Errorf("store: list events: %w", err)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return nil, "", fmt.Errorf("store: list events: %w: to (%s) is before from (%s)", ErrBadQuery, f.To, f.From)
	}
	if len(f.Subjects) > maxEventSubjects {
		return nil, "", fmt.Errorf("store: list events: %w: %d subjects (at most %d)", ErrBadQuery, len(f.Subjects), maxEventSubjects)
	}
	if f.Subjects != nil && len(f.Subjects) == 0 {
		return nil, "", nil
	}
	s := db.d.stmt().sql("SELECT id, " + eventColumns + " FROM events WHERE 1=1")
	if f.Kind != "" {
		s.sql(" AND kind = ").arg(shortText(f.Kind))
	}
	if f.Subject != "" {
		s.sql(" AND subject = ").arg(shortText(f.Subject))
	}
	if f.Subjects != nil {
		subs := make([]any, len(f.Subjects))
		for i, v := range f.Subjects {
			subs[i] = shortText(v)
		}
		s.sql(" AND subject IN ").list(subs)
	}
	if err := newestFirst(s, f.From, f.To, f.Cursor, limit); err != nil {
		return nil, "", fmt.Errorf("store: list events: %w", err)
	}

	rows, err := db.r.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list events: %w", err)
	}
	defer rows.Close()
	var es []Event
	for rows.Next() {
		var (
			e      Event
			us     int64
			detail sql.NullString
		)
		if err := rows.Scan(&e.ID, &us, &e.Kind, &e.Severity, &e.Subject, &e.Message, &detail); err != nil {
			return nil, "", fmt.Errorf("store: list events: %w", err)
		}
		e.Time = time.UnixMicro(us).UTC()
		if err := scanJSON("detail", detail, &e.Detail); err != nil {
			return nil, "", fmt.Errorf("store: list events: event %d: %w", e.ID, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list events: %w", err)
	}
	var next string
	if len(es) > limit {
		es = es[:limit]
		last := es[limit-1]
		next = encodeCursor(last.Time.UnixMicro(), strconv.FormatInt(last.ID, 10))
	}
	return es, next, nil
}
