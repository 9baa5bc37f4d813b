package openapi

import (
	"slices"

	"github.com/faultline-go/faultline/problem"
)

// strictTypePrefix is the prefix of the @type of a google-strict detail.
const strictTypePrefix = "type.googleapis.com/google.rpc."

// googleStrictSchema describes the google-strict envelope: a
// google.rpc.Status whose details are typed messages, each told apart by
// its @type.
func googleStrictSchema() map[string]any {
	details := map[string]any{
		"type":        "array",
		"minItems":    1,
		"prefixItems": []any{errorInfoSchema()},
		"items": map[string]any{"oneOf": []any{
			errorInfoSchema(), badRequestSchema(), preconditionFailureSchema(),
			retryInfoSchema(), requestInfoSchema(), helpSchema(),
		}},
		"description": "Typed details, told apart by @type: ErrorInfo first, then BadRequest or PreconditionFailure, RetryInfo, RequestInfo and Help when they apply.",
	}
	s := obj(map[string]any{"error": obj(map[string]any{
		"code": status(),
		"status": map[string]any{"type": "string", "enum": grpcCodeNames(),
			"description": "The google.rpc.Code name of the HTTP status (INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, ...)."},
		"message": str("What went wrong."),
		"details": details,
	}, "code", "message", "status", "details")}, "error")
	s["description"] = "A faultline error in the google-strict envelope: the AIP-193 error model, google.rpc.Status in JSON."
	return s
}

// grpcCodeNames are the google.rpc.Code names an error status maps to,
// sorted: what problem.GRPCCodeName returns for 400 to 599.
func grpcCodeNames() []string {
	var names []string
	for st := 400; st <= 599; st++ {
		if n := problem.GRPCCodeName(st); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// typed is the closed schema of the detail message name (ErrorInfo, ...):
// its @type and the given members.
func typed(name, description string, props map[string]any, required ...string) map[string]any {
	props["@type"] = map[string]any{"const": strictTypePrefix + name}
	s := obj(props, append([]string{"@type"}, required...)...)
	s["title"] = "google.rpc." + name
	s["description"] = description
	return s
}

func errorInfoSchema() map[string]any {
	meta := metadata("The error's metadata: the keys the code documents, exc_id for a sanitized internal error.")
	meta["properties"] = map[string]any{"exc_id": excID()}
	return typed("ErrorInfo", "Why the error happened: always the first detail.", map[string]any{
		"reason":   str("The catalog code (MISSING_FIELD, NOT_FOUND, ...)."),
		"domain":   str("The service's error domain (Config.ErrorDomain)."),
		"metadata": meta,
	}, "reason", "domain")
}

func badRequestSchema() map[string]any {
	violation := obj(map[string]any{
		"field":       str("The field, as the client spelled it (dotted for nested fields)."),
		"description": str("What is wrong, for a person."),
		"reason":      str("Why it failed: MISSING_FIELD, INVALID_FORMAT, INVALID_ARGUMENT or a code of the service."),
	}, "field", "description", "reason")
	return typed("BadRequest", "The invalid fields of a validation error (400).", map[string]any{
		"fieldViolations": map[string]any{"type": "array", "minItems": 1, "items": violation},
	}, "fieldViolations")
}

func preconditionFailureSchema() map[string]any {
	violation := obj(map[string]any{
		"type":        str("The reason of the violation."),
		"subject":     str("The field or resource it concerns."),
		"description": str("What is wrong, for a person."),
	}, "type", "subject", "description")
	return typed("PreconditionFailure", "The violations of an error of another status than 400 (a business rule, 422).", map[string]any{
		"violations": map[string]any{"type": "array", "minItems": 1, "items": violation},
	}, "violations")
}

func retryInfoSchema() map[string]any {
	return typed("RetryInfo", "How long to wait before retrying, as the Retry-After header says.", map[string]any{
		"retryDelay": map[string]any{"type": "string", "pattern": `^[0-9]+(\.[0-9]{3}|\.[0-9]{6}|\.[0-9]{9})?s$`,
			"description": `A google.protobuf.Duration: seconds with 0, 3, 6 or 9 fractional digits and "s" ("1s", "1.500s").`},
	}, "retryDelay")
}

func requestInfoSchema() map[string]any {
	return typed("RequestInfo", "The request the error answers.", map[string]any{
		"requestId": str("The request id, as in the X-Request-Id header."),
	}, "requestId")
}

func helpSchema() map[string]any {
	link := obj(map[string]any{
		"description": str("What the link documents."),
		"url":         map[string]any{"type": "string", "format": "uri", "description": "The code's entry in the error reference."},
	}, "description", "url")
	return typed("Help", "The documentation of the code, with Config.DocLinks.", map[string]any{
		"links": map[string]any{"type": "array", "minItems": 1, "items": link},
	}, "links")
}
