package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// One JSON naming everywhere: an API message is printed as protojson
// prints it (the lowerCamelCase names Connect's JSON uses), and the CLI's
// own results use lowerCamelCase tags too. Output is one compact line.

// printJSON prints an API message as the Connect JSON a curl user sees.
func printJSON(out io.Writer, m proto.Message) error {
	b, err := protoJSON(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}

// protoJSON is m as compact protojson; protojson's own spacing varies
// from build to build on purpose, and scripts should not see it.
func protoJSON(m proto.Message) (json.RawMessage, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: false}.Marshal(m)
	if err != nil {
		return nil, err
	}
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		return nil, err
	}
	return c.Bytes(), nil
}

// protoMap is m as a JSON object, for a result that adds fields to it.
func protoMap(m proto.Message) (map[string]any, error) {
	b, err := protoJSON(m)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, json.Unmarshal(b, &out)
}

// printValue prints one of the CLI's own results (lowerCamelCase tags).
func printValue(out io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}

// decimal formats v base units of an 18-decimal unit exactly: at least six
// decimals, more when the amount has them.
func decimal(v *big.Int) string {
	if v == nil {
		v = new(big.Int)
	}
	neg := v.Sign() < 0
	s := new(big.Int).Abs(v).String()
	for len(s) < 19 {
		s = "0" + s
	}
	whole, frac := s[:len(s)-18], strings.TrimRight(s[len(s)-18:], "0")
	for len(frac) < 6 {
		frac += "0"
	}
	if neg {
		whole = "-" + whole
	}
	return whole + "." + frac
}

// tgt formats an amount of base units as tokens, for people.
func tgt(v *big.Int) string { return decimal(v) + " TGT" }

// tgtString formats a decimal string of base units as tokens.
func tgtString(s string) string {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return s
	}
	return tgt(v)
}

// eth formats wei as the chain's coin, for gas.
func eth(v *big.Int) string { return decimal(v) + " ETH" }

func ethString(s string) string {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return s + " wei"
	}
	return eth(v)
}
