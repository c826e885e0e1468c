// Package attribution runs attribution plugins and turns what they say into
// money that adds up: [Runner.Run] executes a content-addressed plugin on an
// invocation's output and accesses and validates every weight it returns;
// [Split] divides an amount by weights with largest-remainder rounding, so the
// parts are integers that sum exactly to the whole.
package attribution
