// Package ratelimit enforces token-bucket rate limits per API key pair (or
// client IP), with per-route policies on top, in memory or on Redis, and
// answers rejections with 429 RESOURCE_EXHAUSTED through the request's
// problem.Renderer.
package ratelimit
