// Package model runs the models agents call: a [Backend] per model
// manifest, behind one small interface, and the cache that keeps them
// built. The embedded backend is an ∞-gram model over the model's
// training datanets at the versions its manifest pins ([Infgram]); its
// generation re-runs bit for bit and its attribution is exact, so a
// verifier re-runs both from a receipt.
//
// Pricing and the split of a call's cost are the rules package's; the
// host meters and charges calls. This package only answers them.
package model
