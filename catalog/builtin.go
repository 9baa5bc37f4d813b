package catalog

// trackedDefault is the tracked envelope's code for a status, as the tracked
// API documents it; statuses it does not list use the code's own name.
func trackedDefault(status int, name string) string {
	switch status {
	case 400:
		return "INVALID_REQUEST"
	case 401:
		return "UNAUTHORIZED"
	case 403:
		return "FORBIDDEN"
	case 404:
		return "NOT_FOUND"
	case 405:
		return "METHOD_NOT_ALLOWED"
	case 409:
		return "CONFLICT"
	case 413:
		return "PAYLOAD_TOO_LARGE"
	case 415:
		return "UNSUPPORTED_MEDIA_TYPE"
	case 422:
		return "VALIDATION_ERROR"
	case 429:
		return "RATE_LIMIT_EXCEEDED"
	case 500:
		return "INTERNAL_ERROR"
	case 502:
		return "BAD_GATEWAY"
	case 503:
		return "SERVICE_UNAVAILABLE"
	case 504:
		return "TIMEOUT"
	}
	return name
}

// builtins returns the built-in codes. Their flat codes are assigned in this
// order, so each is the first of its status unless noted by position. The
// metadata keys are those faultline itself sets: the byte offset of a bad
// request body (problem.DecodeJSON), the body limit of a 413, the refused
// policy of a 429 (ratelimit) and the exc_ id of a sanitized 500 (google's
// details[0].metadata.id).
func builtins() []Code {
	return []Code{
		{Name: InvalidArgument, Status: 400, Message: "Invalid request.", Metadata: []string{"offset"},
			Resolution: "Check the message and details for the specific field issues."},
		{Name: MissingField, Status: 400, Message: "Missing required field.",
			Resolution: "Include all required fields in the request."},
		{Name: InvalidFormat, Status: 400, Message: "Invalid field format.", Metadata: []string{"offset"},
			Resolution: "Match the expected types and formats (dates as ISO 8601, etc.)."},
		{Name: MissingAuthorization, Status: 401, Message: "Missing authorization.",
			Resolution: "Include an Authorization: Basic <credentials> header."},
		{Name: MalformedCredentials, Status: 401, Message: "Malformed credentials.",
			Resolution: "Verify the Base64 encoding of API_KEY:API_SECRET."},
		{Name: InvalidCredentials, Status: 401, Message: "Invalid credentials.",
			Resolution: "Check that the key and secret are correct and not revoked."},
		{Name: PermissionDenied, Status: 403, Message: "Permission denied.",
			Resolution: "Check the permissions of the credentials used."},
		{Name: NotFound, Status: 404, Message: "Resource not found.",
			Resolution: "Verify the URL and that the id exists and belongs to your tenant."},
		{Name: MethodNotAllowed, Status: 405, Message: "Method not allowed.",
			Resolution: "Retry with one of the methods listed in the Allow header."},
		{Name: RequestTimeout, Status: 408, Retryable: true, Message: "The request body did not arrive in time.",
			Resolution: "Send the whole body promptly; retry on a connection that is not stalled."},
		{Name: Conflict, Status: 409, Message: "Resource state conflict.",
			Resolution: "Fetch the current state of the resource and resolve the conflict."},
		{Name: PayloadTooLarge, Status: 413, Message: "Request body too large.", Metadata: []string{"limit"},
			Resolution: "Send a smaller request body."},
		{Name: UnsupportedMediaType, Status: 415, Message: "Unsupported media type.",
			Resolution: "Send the body as application/json."},
		{Name: FailedPrecondition, Status: 422, Message: "The request violates a business rule.",
			Resolution: "Fix the request according to the message; retrying it unchanged will fail again."},
		{Name: ResourceExhausted, Status: 429, Retryable: true, Message: "Rate limit exceeded.",
			Metadata:   []string{"policy"},
			Resolution: "Back off and retry after the number of seconds in the Retry-After header."},
		{Name: Internal, Status: 500, Retryable: true, Message: "An internal error has occurred.",
			Metadata:   []string{"id"},
			Resolution: "Retry with exponential backoff; quote the exc_ id when contacting support."},
		{Name: BadGateway, Status: 502, Retryable: true, Message: "Upstream service error.",
			Resolution: "Retry with exponential backoff."},
		{Name: Unavailable, Status: 503, Retryable: true, Message: "Service temporarily unavailable.",
			Resolution: "Retry after the number of seconds in the Retry-After header."},
		{Name: DeadlineExceeded, Status: 504, Retryable: true, Message: "The request timed out.",
			Resolution: "Retry with exponential backoff; consider a smaller request."},
	}
}
