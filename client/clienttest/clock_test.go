package clienttest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/faultline-go/faultline/client/clienttest"
)

var start = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestClock(t *testing.T) {
	c := clienttest.NewClock(start)
	assert.NoError(t, c.Sleep(context.Background(), 2*time.Second))
	assert.NoError(t, c.Sleep(context.Background(), 0), "Sleep(0)")
	c.Advance(time.Second)
	assert.Equal(t, start.Add(3*time.Second), c.Now(), "Now() after a 2s sleep and a 1s advance")
	assert.Equal(t, []time.Duration{2 * time.Second}, c.Sleeps(), "Sleeps()")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled, "Sleep on a done context")
	assert.Equal(t, start.Add(3*time.Second), c.Now(), "Now() after a canceled sleep")
}

func ExampleClock() {
	c := clienttest.NewClock(start)
	_ = c.Sleep(context.Background(), 1500*time.Millisecond)
	fmt.Println(c.Now().Format(time.TimeOnly), c.Sleeps())
	// Output: 12:00:01 [1.5s]
}
