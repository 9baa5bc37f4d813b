package openapi

import "github.com/faultline-go/faultline/problem"

// schemaEntry is the OpenAPI description of one envelope: the name of its
// schema component and the schema (JSON Schema 2020-12).
type schemaEntry struct {
	name   string
	schema func() map[string]any
}

// builtinSchemas describes the built-in envelopes, by envelope name. A new
// built-in envelope is one more entry here.
func builtinSchemas() map[string]schemaEntry {
	return map[string]schemaEntry{
		problem.EnvelopeFlat:         {"FlatError", flatSchema},
		problem.EnvelopeGoogle:       {"GoogleError", googleSchema},
		problem.EnvelopeTracked:      {"TrackedError", trackedSchema},
		problem.EnvelopeProblem:      {"Problem", problemSchema},
		problem.EnvelopeGoogleStrict: {"GoogleStrictError", googleStrictSchema},
	}
}

// obj is a closed object schema with the given required members.
func obj(props map[string]any, required ...string) map[string]any {
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

func str(description string) map[string]any {
	return map[string]any{"type": "string", "description": description}
}

func status() map[string]any {
	return map[string]any{"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status."}
}

func excID() map[string]any {
	return map[string]any{"type": "string", "pattern": "^exc_[0-9a-z]{26}$",
		"description": "The reference of a sanitized internal error, to quote to support."}
}

// violations is the array of field violations of the tracked and problem
// envelopes.
func violations(description string) map[string]any {
	return map[string]any{"type": "array", "description": description, "items": obj(map[string]any{
		"field":   str("The field, as the client spelled it (dotted for nested fields)."),
		"reason":  str("Why it failed: MISSING_FIELD, INVALID_FORMAT, INVALID_ARGUMENT or a code of the service."),
		"message": str("What is wrong, for a person."),
	}, "field", "reason", "message")}
}

// metadata is an object of string members: the metadata a code documents.
func metadata(description string) map[string]any {
	return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "description": description}
}

func flatSchema() map[string]any {
	s := obj(map[string]any{
		"code": map[string]any{"type": "string", "pattern": "^[A-Z][A-Z0-9]{0,15}-[0-9]{3}-[0-9]{3}$",
			"description": "The flat code, PREFIX-STATUS-SEQUENCE."},
		"message": str("What went wrong; a sanitized internal error names its exc_ reference here."),
	}, "code", "message")
	s["description"] = "A faultline error in the flat envelope."
	return s
}

func googleSchema() map[string]any {
	detail := obj(map[string]any{
		"reason":      str("The catalog code, or ERROR_RECORDED for a sanitized internal error."),
		"description": str("What is wrong with the field named in metadata.field."),
		"metadata":    metadata("Machine-readable context: the field of a validation error, the id of a sanitized error, the keys the code documents."),
	}, "reason")
	s := obj(map[string]any{"error": obj(map[string]any{
		"code":    status(),
		"status":  str("The catalog code's google name."),
		"message": str("What went wrong."),
		"details": map[string]any{"type": "array", "items": detail, "description": "Always an array: one entry per invalid field, else one entry."},
	}, "code", "status", "message", "details")}, "error")
	s["description"] = "A faultline error in the google envelope."
	return s
}

func trackedSchema() map[string]any {
	details := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"reason": str("The precise catalog code, when error.code is its category."),
			"exc_id": excID(),
			"fields": violations("The invalid fields of a validation error."),
		},
		"additionalProperties": map[string]any{"type": "string"},
		"description":          "Always an object; metadata the code documents appears as further members.",
	}
	s := obj(map[string]any{"error": obj(map[string]any{
		"code":       str("The tracked code: a category per status (INVALID_REQUEST, NOT_FOUND, ...)."),
		"message":    str("What went wrong."),
		"details":    details,
		"request_id": str("The request id, as in the X-Request-Id header."),
		"timestamp":  map[string]any{"type": "string", "format": "date-time", "description": "When the error was answered, RFC 3339 in UTC."},
	}, "code", "message", "details", "request_id", "timestamp")}, "error")
	s["description"] = "A faultline error in the tracked envelope."
	return s
}

func problemSchema() map[string]any {
	return map[string]any{
		"type":        "object",
		"description": "RFC 9457 problem details with faultline's extension members; metadata the code documents appears as further members.",
		"properties": map[string]any{
			"type":       map[string]any{"type": "string", "format": "uri-reference", "description": "The problem type: about:blank, or the type base URI and the code's anchor."},
			"title":      str("The problem type's title."),
			"status":     status(),
			"detail":     str("What went wrong in this occurrence."),
			"instance":   map[string]any{"type": "string", "format": "uri-reference", "description": "The request path."},
			"code":       str("The catalog code."),
			"request_id": str("The request id, as in the X-Request-Id header."),
			"exc_id":     excID(),
			"errors":     violations("The invalid fields; always an array."),
			"violated-policies": map[string]any{"type": "array", "items": map[string]any{"type": "string"},
				"description": "The rate-limit policies that refused the request."},
		},
		"required":             []string{"type", "title", "status", "detail", "instance", "code", "request_id", "errors"},
		"additionalProperties": map[string]any{"type": "string"},
	}
}
