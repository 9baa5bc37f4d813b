package ratelimit_test

import (
	"testing"

	"github.com/faultline-go/faultline/ratelimit"
	"github.com/faultline-go/faultline/ratelimit/storetest"
)

// TestMemoryStoreBehaviour runs the behaviour every Store must show
// against MemoryStore, on its coarse clock and on the system clock;
// decisions keep working after Close.
func TestMemoryStoreBehaviour(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ratelimit.MemoryConfig
	}{
		{"default", ratelimit.MemoryConfig{}},
		{"system clock, one shard", ratelimit.MemoryConfig{Resolution: -1, Shards: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(*testing.T) ratelimit.Store { return ratelimit.NewMemoryStore(tc.cfg) })
		})
	}
}
