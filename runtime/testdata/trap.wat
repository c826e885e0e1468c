;; A plugin that traps at once.
(module
  (func (export "trap") (result i32)
    unreachable))
