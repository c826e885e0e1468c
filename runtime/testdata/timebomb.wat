;; A time bomb: its _initialize reads the wall clock and spins forever once
;; the date is past 2023-01-01, so a publish check run on a fresh clock
;; would pass while every later instance hung. Its "now" export reports,
;; as its return code, whether a call sees a clock past that date.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory 1)
  (func $late (result i32)
    (drop (call $clock (i32.const 0) (i64.const 1000) (i32.const 0)))
    ;; 2023-01-01T00:00:00Z in nanoseconds
    (i64.gt_u (i64.load (i32.const 0)) (i64.const 1672531200000000000)))
  (func (export "_initialize")
    (if (call $late)
      (then (loop $l (memory.fill (i32.const 8) (i32.const 1) (i32.const 65000)) (br $l)))))
  (func (export "invoke") (result i32) (i32.const 0))
  (func (export "now") (result i32) (call $late)))
