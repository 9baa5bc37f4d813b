package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/storetest"
)

// TestStoreBehaviour runs the behaviour every Store must show against
// the Redis store, standalone and on a three-node Cluster; a closed
// store refuses decisions.
func TestStoreBehaviour(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) redis.UniversalClient
	}{
		{"standalone", func(t *testing.T) redis.UniversalClient { return newClient(t, redisAddr(t)) }},
		{"cluster", func(t *testing.T) redis.UniversalClient { return newClusterClient(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := tc.client(t)
			storetest.Run(t, func(t *testing.T) ratelimit.Store {
				st, _ := newStore(t, client)
				return st
			}, storetest.CloseEndsDecisions())
		})
	}
}
