;; scribble reports the state it starts from, then writes every byte of its
;; memory and sets every global: a caller that saw any of it in its own call
;; would see another caller's state.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory 3)
  (data (i32.const 1024) "hello, snapshot")
  (global $g (mut i64) (i64.const 7))
  (global $h (mut i32) (i32.const 0))
  (global $f (mut f64) (f64.const 1.5))

  ;; report writes [g, h, f bits, sum of every memory byte, pages] as the output.
  (func $report
    (local $i i32) (local $sum i64) (local $out i64)
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $i) (i32.mul (memory.size) (i32.const 65536))))
        (local.set $sum (i64.add (local.get $sum) (i64.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes)))
    (local.set $out (call $alloc (i64.const 40)))
    (call $store (local.get $out) (global.get $g))
    (call $store (i64.add (local.get $out) (i64.const 8)) (i64.extend_i32_u (global.get $h)))
    (call $store (i64.add (local.get $out) (i64.const 16)) (i64.reinterpret_f64 (global.get $f)))
    (call $store (i64.add (local.get $out) (i64.const 24)) (local.get $sum))
    (call $store (i64.add (local.get $out) (i64.const 32)) (i64.extend_i32_u (memory.size)))
    (call $output_set (local.get $out) (i64.const 40)))

  (func $scribble_all
    (memory.fill (i32.const 0) (i32.const 0xab) (i32.mul (memory.size) (i32.const 65536)))
    (global.set $g (i64.const 0x5151))
    (global.set $h (i32.const 99))
    (global.set $f (f64.const -2)))

  ;; prewarm runs once per instance, before the snapshot: what it leaves,
  ;; every call starts from.
  (func (export "prewarm") (result i32)
    (global.set $h (i32.const 42))
    (i32.const 0))

  (func (export "scribble") (result i32)
    (call $report)
    (call $scribble_all)
    (i32.const 0))

  ;; grow grows memory by a page, reports (the grown page must read as
  ;; zero, whatever an earlier call wrote there), then writes everything.
  (func (export "grow") (result i32)
    (drop (memory.grow (i32.const 1)))
    (call $report)
    (call $scribble_all)
    (i32.const 0)))
