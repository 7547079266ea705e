//go:build !linux

package harness

const netnsChildEnv = "SNMPCHAOS_HARNESS_NETNS_CHILD"

func netnsChild() int { return 2 }
