//go:build race

package problem_test

const raceEnabled = true
