package ratelimit_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name    string
		policy  ratelimit.Policy
		wantErr bool
	}{
		{"valid", ratelimit.Policy{Name: "reports", Rate: 2, Burst: 2}, false},
		{"all allowed characters", ratelimit.Policy{Name: "AZaz09._-", Rate: 1, Burst: 1}, false},
		{"64-char name", ratelimit.Policy{Name: strings.Repeat("a", 64), Rate: 1, Burst: 1}, false},
		{"fractional rate", ratelimit.Policy{Name: "slow", Rate: rate.Every(time.Hour), Burst: 1}, false},
		{"rate.Inf", ratelimit.Policy{Name: "unlimited", Rate: rate.Inf, Burst: 1}, false},
		{"empty name", ratelimit.Policy{Name: "", Rate: 1, Burst: 1}, true},
		{"space in name", ratelimit.Policy{Name: "a b", Rate: 1, Burst: 1}, true},
		{"quote in name", ratelimit.Policy{Name: `a"b`, Rate: 1, Burst: 1}, true},
		{"semicolon in name", ratelimit.Policy{Name: "a;q=1", Rate: 1, Burst: 1}, true},
		{"comma in name", ratelimit.Policy{Name: "a,b", Rate: 1, Burst: 1}, true},
		{"non-ASCII name", ratelimit.Policy{Name: "é", Rate: 1, Burst: 1}, true},
		{"65-char name", ratelimit.Policy{Name: strings.Repeat("a", 65), Rate: 1, Burst: 1}, true},
		{"rate 0", ratelimit.Policy{Name: "p", Rate: 0, Burst: 1}, true},
		{"negative rate", ratelimit.Policy{Name: "p", Rate: -1, Burst: 1}, true},
		{"-Inf rate", ratelimit.Policy{Name: "p", Rate: rate.Limit(math.Inf(-1)), Burst: 1}, true},
		{"NaN rate", ratelimit.Policy{Name: "p", Rate: rate.Limit(math.NaN()), Burst: 1}, true},
		{"burst 0", ratelimit.Policy{Name: "p", Rate: 1, Burst: 0}, true},
		{"negative burst", ratelimit.Policy{Name: "p", Rate: 1, Burst: -3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if !tt.wantErr {
				assert.NoError(t, err, "%+v.Validate() = %v, want nil", tt.policy, err)
				return
			}
			require.Error(t, err, "%+v.Validate() = nil, want an error", tt.policy)
			assert.True(t, errors.Is(err, ratelimit.ErrInvalidPolicy),
				"%+v.Validate() = %v, want an error wrapping ErrInvalidPolicy", tt.policy, err)
			assert.True(t, strings.HasPrefix(err.Error(), "ratelimit: "),
				"%+v.Validate() = %q, want a message starting with \"ratelimit: \"", tt.policy, err)
		})
	}
}

func TestPolicyWindowAndString(t *testing.T) {
	tests := []struct {
		name       string
		policy     ratelimit.Policy
		wantWindow time.Duration
		wantString string
	}{
		{"sandbox", ratelimit.Sandbox(), time.Second, `"sandbox";q=10;w=1`},
		{"production", ratelimit.Production(), time.Second, `"production";q=25;w=1`},
		{"rate 2 burst 2", ratelimit.Policy{Name: "reports", Rate: 2, Burst: 2}, time.Second, `"reports";q=2;w=1`},
		{"rate 0.5 burst 5", ratelimit.Policy{Name: "slow", Rate: 0.5, Burst: 5}, 10 * time.Second, `"slow";q=5;w=10`},
		{"rounded up", ratelimit.Policy{Name: "odd", Rate: 3, Burst: 10}, 4 * time.Second, `"odd";q=10;w=4`},
		{"at least one second", ratelimit.Policy{Name: "fast", Rate: 1000, Burst: 1}, time.Second, `"fast";q=1;w=1`},
		{"every 1.5s", ratelimit.Policy{Name: "every", Rate: rate.Every(1500 * time.Millisecond), Burst: 2}, 3 * time.Second, `"every";q=2;w=3`},
		{"rate.Inf", ratelimit.Policy{Name: "inf", Rate: rate.Inf, Burst: 7}, time.Second, `"inf";q=7;w=1`},
		// The time to refill overflows time.Duration: capped.
		{"tiny rate", ratelimit.Policy{Name: "tiny", Rate: 1e-12, Burst: 1}, 9223372036 * time.Second, `"tiny";q=1;w=9223372036`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.policy.Window()
			assert.Equal(t, tt.wantWindow, got, "%+v.Window() = %v, want %v", tt.policy, got, tt.wantWindow)
			s := tt.policy.String()
			assert.Equal(t, tt.wantString, s, "%+v.String() = %q, want %q", tt.policy, s, tt.wantString)
		})
	}
}

func TestPolicyFor(t *testing.T) {
	tests := []struct {
		name    string
		env     ratelimit.Environment
		want    ratelimit.Policy
		wantErr bool
	}{
		{"sandbox", ratelimit.EnvSandbox, ratelimit.Sandbox(), false},
		{"production", ratelimit.EnvProduction, ratelimit.Production(), false},
		{"empty is sandbox", "", ratelimit.Sandbox(), false},
		{"bogus", "bogus", ratelimit.Policy{}, true},
		{"case matters", "Production", ratelimit.Policy{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ratelimit.PolicyFor(tt.env)
			if tt.wantErr {
				require.Error(t, err, "PolicyFor(%q) = %+v, nil, want an error", tt.env, got)
				assert.True(t, errors.Is(err, ratelimit.ErrUnknownEnvironment),
					"PolicyFor(%q) = %v, want an error wrapping ErrUnknownEnvironment", tt.env, err)
				assert.Contains(t, err.Error(), string(tt.env), "PolicyFor(%q) = %q, want the environment named", tt.env, err)
				assert.Equal(t, ratelimit.Policy{}, got, "PolicyFor(%q) = %+v, want the zero Policy", tt.env, got)
				return
			}
			require.NoError(t, err, "PolicyFor(%q) = %v, want nil error", tt.env, err)
			assert.Equal(t, tt.want, got, "PolicyFor(%q) = %+v, want %+v", tt.env, got, tt.want)
			assert.NoError(t, got.Validate(), "PolicyFor(%q).Validate() = %v, want nil", tt.env, got.Validate())
		})
	}
}

func TestPresets(t *testing.T) {
	tests := []struct {
		name string
		got  ratelimit.Policy
		want ratelimit.Policy
	}{
		{"Sandbox", ratelimit.Sandbox(), ratelimit.Policy{Name: "sandbox", Rate: 10, Burst: 10}},
		{"Production", ratelimit.Production(), ratelimit.Policy{Name: "production", Rate: 25, Burst: 25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got, "%s() = %+v, want %+v", tt.name, tt.got, tt.want)
		})
	}
}
