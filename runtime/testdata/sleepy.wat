;; sleepy's prewarm sleeps for an hour; its invoke takes five parameters.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory 1)
  (func (export "prewarm") (result i32)
    ;; one subscription at 0: userdata 0, tag 0 (clock), clock id 1
    ;; (monotonic) at 16, timeout 3600 s at 24, relative.
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 3600000000000))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
    (i32.const 0))
  (func (export "invoke") (param i32 i32 i32 i32 i32) (result i32) (i32.const 0)))
