// Package rules holds the market's rules: how a call's price is divided
// ([Bill.Postings]), what a failed call is charged ([Bill.Failed]), and the
// bounds on an agent's price that callers ([CheckMaxPrice]) and operators
// ([CheckMinPrice]) set.
//
// Everything here is a pure function of amounts, accounts and postings: no
// I/O, no clock, no randomness. The host uses it to charge a call and the
// verifier uses it to re-charge the same call, so the two cannot disagree.
package rules
