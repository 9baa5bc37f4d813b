package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Snapshot is a catalog as it was released: its JSON form (MarshalJSON,
// docs/errors.json), read back by ParseSnapshot, for Compare.
type Snapshot struct {
	// Prefix is the flat-code prefix.
	Prefix string
	// Codes are the codes, as MarshalJSON lists them.
	Codes []Code
}

// ParseSnapshot reads a catalog's JSON form. Members it does not know are
// ignored, so a snapshot written by a later version still reads. A document
// that is no catalog (not JSON, a bad prefix, a code without a valid name,
// status or flat code, a name listed twice) fails with an error wrapping
// ErrInvalidSnapshot.
func ParseSnapshot(data []byte) (*Snapshot, error) {
	var doc struct {
		Prefix *string     `json:"prefix"`
		Codes  *[]jsonCode `json:"codes"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSnapshot, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the catalog", ErrInvalidSnapshot)
	}
	if doc.Prefix == nil || doc.Codes == nil {
		return nil, fmt.Errorf("%w: want an object with prefix and codes", ErrInvalidSnapshot)
	}
	if !validPrefix(*doc.Prefix) {
		return nil, fmt.Errorf("%w: prefix %q", ErrInvalidSnapshot, *doc.Prefix)
	}
	s := &Snapshot{Prefix: *doc.Prefix, Codes: make([]Code, 0, len(*doc.Codes))}
	seen := make(map[string]bool, len(*doc.Codes))
	for i, j := range *doc.Codes {
		code := j.code()
		switch {
		case !validName(code.Name):
			return nil, fmt.Errorf("%w: codes[%d] has the name %q", ErrInvalidSnapshot, i, code.Name)
		case seen[code.Name]:
			return nil, fmt.Errorf("%w: %s listed twice", ErrInvalidSnapshot, code.Name)
		case code.Status < 400 || code.Status > 599:
			return nil, fmt.Errorf("%w: %s has the status %d", ErrInvalidSnapshot, code.Name, code.Status)
		case code.Flat == "":
			return nil, fmt.Errorf("%w: %s has no flat code", ErrInvalidSnapshot, code.Name)
		}
		seen[code.Name] = true
		s.Codes = append(s.Codes, code)
	}
	return s, nil
}

// ChangeKind is a kind of breaking change between a released catalog and
// the current one.
type ChangeKind int

// The breaking changes Compare reports. Adding a code, a metadata key, or
// changing a message, resolution or title breaks no client.
const (
	// CodeRemoved: a released code is gone.
	CodeRemoved ChangeKind = iota + 1
	// StatusChanged: a code answers with another HTTP status.
	StatusChanged
	// FlatChanged: a code has another flat code (a new prefix changes them all).
	FlatChanged
	// GoogleChanged: a code has another google status.
	GoogleChanged
	// TrackedChanged: a code has another tracked code.
	TrackedChanged
	// RetryableChanged: a code's retryable flag flipped.
	RetryableChanged
	// MetadataKeyRemoved: a metadata key a code documented is gone.
	MetadataKeyRemoved
)

var kindNames = [...]string{"", "code removed", "status changed", "flat code changed",
	"google status changed", "tracked code changed", "retryable changed", "metadata key removed"}

// String names the kind, "status changed".
func (k ChangeKind) String() string {
	if k < 1 || int(k) >= len(kindNames) {
		return "ChangeKind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Change is one breaking change of one code.
type Change struct {
	// Kind says what changed.
	Kind ChangeKind
	// Code is the name of the code.
	Code string
	// Old is the released value: the status, flat code, google or tracked
	// name, retryable flag, or the removed metadata key; empty for
	// CodeRemoved.
	Old string
	// New is the current value; empty for CodeRemoved and
	// MetadataKeyRemoved.
	New string
}

// String describes the change: "NOT_FOUND: status changed from 404 to 410".
func (ch Change) String() string {
	switch ch.Kind {
	case CodeRemoved:
		return ch.Code + ": " + ch.Kind.String()
	case MetadataKeyRemoved:
		return ch.Code + ": " + ch.Kind.String() + ": " + ch.Old
	}
	return ch.Code + ": " + ch.Kind.String() + " from " + ch.Old + " to " + ch.New
}

// Compare returns the breaking changes from old to c, in the order of old's
// codes and, for one code, of the ChangeKind constants; nil when there is
// none.
func (c *Catalog) Compare(old *Snapshot) []Change {
	var out []Change
	for _, was := range old.Codes {
		now := c.Ref(was.Name)
		if now == nil {
			out = append(out, Change{Kind: CodeRemoved, Code: was.Name})
			continue
		}
		out = appendChanges(out, was, now)
	}
	return out
}

// appendChanges appends the breaking changes from was to now.
func appendChanges(out []Change, was Code, now *Code) []Change {
	diff := func(kind ChangeKind, a, b string) {
		if a != b {
			out = append(out, Change{Kind: kind, Code: was.Name, Old: a, New: b})
		}
	}
	diff(StatusChanged, strconv.Itoa(was.Status), strconv.Itoa(now.Status))
	diff(FlatChanged, was.Flat, now.Flat)
	diff(GoogleChanged, was.Google, now.Google)
	diff(TrackedChanged, was.Tracked, now.Tracked)
	diff(RetryableChanged, strconv.FormatBool(was.Retryable), strconv.FormatBool(now.Retryable))
	for _, key := range was.Metadata {
		if !slices.Contains(now.Metadata, key) {
			out = append(out, Change{Kind: MetadataKeyRemoved, Code: was.Name, Old: key})
		}
	}
	return out
}

// CheckCompatible parses snapshot (a released catalog's JSON form, such as
// a committed docs/errors.json) and compares c with it. It returns the
// breaking changes and, when there is any, an error wrapping
// ErrIncompatible that lists them; a snapshot ParseSnapshot rejects gives
// its error.
func (c *Catalog) CheckCompatible(snapshot []byte) ([]Change, error) {
	old, err := ParseSnapshot(snapshot)
	if err != nil {
		return nil, err
	}
	changes := c.Compare(old)
	if len(changes) == 0 {
		return nil, nil
	}
	lines := make([]string, len(changes))
	for i, ch := range changes {
		lines[i] = "\n\t" + ch.String()
	}
	return changes, fmt.Errorf("%w: %d breaking changes:%s", ErrIncompatible, len(changes), strings.Join(lines, ""))
}
