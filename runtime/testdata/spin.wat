;; Spins that cost almost nothing per pass when a bulk operation is charged
;; as one instruction: a memory.fill, memory.copy or memory.init of a large
;; length in a loop. Each export loops until the host stops it.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "reset" (func $reset))
  (memory 200)
  (data $seg "Tollgate meters every byte a bulk operation touches; a loop of them is no cheaper than a loop of stores.")
  (func (export "fill") (result i32)
    (loop $l
      (memory.fill (i32.const 0) (i32.const 7) (i32.const 12582912))
      (br $l))
    (i32.const 0))
  (func (export "copy") (result i32)
    (loop $l
      (memory.copy (i32.const 0) (i32.const 6291456) (i32.const 6291456))
      (br $l))
    (i32.const 0))
  (func (export "init") (result i32)
    (loop $l
      (memory.init $seg (i32.const 0) (i32.const 0) (i32.const 100))
      (br $l))
    (i32.const 0))
  ;; Work done in the Extism kernel, which is not instrumented: each pass
  ;; asks it for 16 MiB and clears it again.
  (func (export "kernel") (result i32)
    (loop $l
      (drop (call $alloc (i64.const 16777216)))
      (call $reset)
      (br $l))
    (i32.const 0))
  (func (export "plain") (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (i32.const 0)))
