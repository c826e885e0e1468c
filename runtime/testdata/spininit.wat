;; A reactor whose _initialize never returns: it fills its memory again and
;; again before any call.
(module
  (memory 200)
  (func (export "_initialize")
    (loop $l
      (memory.fill (i32.const 0) (i32.const 1) (i32.const 12582912))
      (br $l)))
  (func (export "invoke") (result i32) (i32.const 0)))
