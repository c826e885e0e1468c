;; A module whose start function never returns: it fills its memory again
;; and again before any call.
(module
  (memory 200)
  (func $start
    (loop $l
      (memory.fill (i32.const 0) (i32.const 1) (i32.const 12582912))
      (br $l)))
  (start $start)
  (func (export "invoke") (result i32) (i32.const 0)))
