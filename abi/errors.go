package abi

import (
	"context"
	"errors"
	"fmt"
)

// Code is one of the closed set of error codes callers branch on. Codes are
// stable strings: they cross the plugin boundary in JSON and the API edge maps
// each to a transport code.
type Code string

// The error codes of the plugin ABI and the host's shared failures. Each
// failure a caller may need to tell apart has its own. Codes only a service
// produces (the ledger's, the chain's, the API's) are defined by the package
// that produces them, with this type, so they never enter the plugin ABI.
const (
	CodeBadRequest         Code = "bad_request"           // malformed input from a caller or plugin
	CodeNotFound           Code = "not_found"             // unknown plugin, datanet, record or account
	CodeGrantDenied        Code = "grant_denied"          // a plugin asked for a datanet it was not granted
	CodeInsufficientCredit Code = "insufficient_credit"   // the caller cannot pay for the call
	CodeBadSignature       Code = "bad_signature"         // a signature did not verify
	CodeHashMismatch       Code = "hash_mismatch"         // bytes do not match the hash that names them
	CodeAlreadyExists      Code = "already_exists"        // an immutable name or version is taken
	CodeTimeout            Code = "plugin_timeout"        // a plugin ran past its wall-time limit
	CodeMemoryLimit        Code = "plugin_memory_limit"   // a plugin tried to grow memory past its cap
	CodeOutputTooLarge     Code = "plugin_output_large"   // a plugin returned more bytes than allowed
	CodeInputTooLarge      Code = "plugin_input_large"    // the input is larger than allowed
	CodeHostCallLimit      Code = "plugin_host_calls"     // too many host calls in one invocation
	CodeRecordLimit        Code = "plugin_record_limit"   // too many records read in one invocation
	CodeBadPointer         Code = "plugin_bad_pointer"    // a host call passed an offset that is not a live Extism block
	CodeBadHostCall        Code = "plugin_bad_host_call"  // a host call's request was not valid JSON for its function
	CodeStackOverflow      Code = "plugin_stack_overflow" // the plugin recursed past the wasm call stack
	CodeTrap               Code = "plugin_trap"           // the plugin trapped (unreachable, bad memory access, stack overflow)
	CodeExit               Code = "plugin_exit"           // the plugin called proc_exit with a non-zero code
	CodePluginError        Code = "plugin_error"          // the plugin returned an error of its own
	CodeBadPluginOutput    Code = "plugin_bad_output"     // the plugin's output violates the ABI
	CodeInvalidPlugin      Code = "plugin_invalid"        // the module cannot be compiled or lacks its export
	CodeNetworkDenied      Code = "plugin_network_denied" // the plugin tried the network, which plugins do not have
	CodeFileDenied         Code = "plugin_file_denied"    // the plugin tried to open a file, which plugins do not have
	CodeBadAttribution     Code = "attribution_invalid"   // weights negative, non-finite or naming unknown records
	CodeUnavailable        Code = "unavailable"           // the host is shutting down
	CodeInternal           Code = "internal"              // a bug or an I/O failure on the host
	CodeCanceled           Code = "canceled"              // the caller canceled the call
	CodeDeadline           Code = "deadline_exceeded"     // the caller's deadline passed
	CodeBadIdentifier      Code = "bad_identifier"        // a name, id or version is not well formed
)

// Error is an error with a [Code]. It travels inside envelopes as JSON and is
// also the error type the host's packages return, so errors.Is works across
// package boundaries: errors.Is(err, &abi.Error{Code: abi.CodeGrantDenied}).
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message,omitempty"`
	// Cause is the error behind this one, if any; it does not cross the
	// plugin boundary.
	Cause error `json:"-"`
}

// Unwrap returns the cause, so errors.Is and errors.As see through an *Error.
func (e *Error) Unwrap() error { return e.Cause }

// Wrap returns an *Error with the code and a message that wraps cause.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &Error{Code: code, Message: msg, Cause: cause}
}

// FromContext returns the *Error for a context's end: CodeCanceled when the
// caller canceled, CodeDeadline when its deadline passed.
func FromContext(err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return Wrap(CodeDeadline, err, "deadline exceeded")
	}
	return Wrap(CodeCanceled, err, "canceled")
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

// Is reports whether target is an *Error with the same code, so a sentinel
// made with [Errorf] or a literal matches any error of that code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, CodeInternal for
// any other non-nil error, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	for e := err; e != nil; {
		if ae, ok := e.(*Error); ok {
			return ae.Code
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if c := CodeOf(inner); c != CodeInternal {
					return c
				}
			}
			return CodeInternal
		default:
			return CodeInternal
		}
	}
	return CodeInternal
}
